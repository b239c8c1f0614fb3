-- Revert pg-session-manager:roles from pg
-- Takes back what this change granted in this database; the roles stay (they are the cluster's).
BEGIN;
REVOKE USAGE ON SCHEMA session_manager FROM session_manager_app, session_manager_monitor;
COMMIT;
