-- Revert pg-session-manager:functions/trim_messages from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.trim_messages(text, integer, text);
COMMIT;
