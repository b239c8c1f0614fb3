-- Revert pg-session-manager:functions/list_user_sessions from pg
BEGIN;
DROP FUNCTION session_manager.list_user_sessions(text, boolean);
COMMIT;
