-- Revert pg-session-manager:functions/find_chat_session from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.find_chat_session(text, text);
COMMIT;
