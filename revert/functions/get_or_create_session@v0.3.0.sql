-- Revert pg-session-manager:functions/get_or_create_session from pg
BEGIN;
DROP FUNCTION session_manager.get_or_create_session(text, text, text, text);
COMMIT;
