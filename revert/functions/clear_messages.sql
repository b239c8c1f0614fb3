-- Revert pg-session-manager:functions/clear_messages from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.clear_messages(text);
COMMIT;
