-- Revert pg-session-manager:types from pg
BEGIN;
DROP TYPE session_manager.message;
DROP TYPE session_manager.session_info;
COMMIT;
