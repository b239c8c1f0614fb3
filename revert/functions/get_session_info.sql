-- Revert pg-session-manager:functions/get_session_info from pg
BEGIN;
DROP FUNCTION session_manager.get_session_info(text);
COMMIT;
