-- Verify pg-session-manager:functions/append_message on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.append_message(text, text, text, uuid)'::regprocedure;
SELECT 'session_manager.stored_message_or_conflict(session_manager.messages, text, text, text)'::regprocedure;
