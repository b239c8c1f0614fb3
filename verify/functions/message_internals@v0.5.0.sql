-- Verify pg-session-manager:functions/message_internals on pg
-- The casts raise when a function is missing.
SELECT 'session_manager.check_message(text, text, text, jsonb, integer, integer, text[], text)'::regprocedure,
       'session_manager.stored_retry(uuid, text, text, text, text, text, jsonb)'::regprocedure,
       'session_manager.lock_live_session(text, text)'::regprocedure,
       'session_manager.add_message_count(text, integer)'::regprocedure;
