-- Revert pg-session-manager:functions/touch_sessions from pg
BEGIN;
DROP FUNCTION session_manager.touch_sessions(text[]);
COMMIT;
