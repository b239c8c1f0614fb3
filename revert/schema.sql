-- Revert pg-session-manager:schema from pg
BEGIN;
DROP SCHEMA session_manager;
COMMIT;
