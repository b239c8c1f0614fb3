-- Revert pg-session-manager:functions/message_internals from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.add_message_count(text, integer);
DROP FUNCTION session_manager.lock_live_session(text, text);
DROP FUNCTION session_manager.stored_retry(uuid, text, text, text, text, text, jsonb);
DROP FUNCTION session_manager.check_message(text, text, text, jsonb, integer, integer, text[], text);
COMMIT;
