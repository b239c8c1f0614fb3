-- Verify pg-session-manager:functions/get_or_create_session on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.get_or_create_session(text, text, text, text)'::regprocedure;
