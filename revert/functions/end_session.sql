-- Revert pg-session-manager:functions/end_session from pg
BEGIN;
DROP FUNCTION session_manager.end_session(text);
COMMIT;
