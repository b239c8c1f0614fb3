-- Revert pg-session-manager:functions/get_context from pg
BEGIN;
DROP FUNCTION session_manager.get_context(text, integer);
COMMIT;
