-- Revert pg-session-manager:functions/append_message from pg
BEGIN;
DROP FUNCTION session_manager.stored_message_or_conflict(session_manager.messages, text, text, text);
DROP FUNCTION session_manager.append_message(text, text, text, uuid);
COMMIT;
