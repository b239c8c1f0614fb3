-- Revert pg-session-manager:functions/touch_session from pg
BEGIN;
DROP FUNCTION session_manager.touch_session(text);
COMMIT;
