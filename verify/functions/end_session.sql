-- Verify pg-session-manager:functions/end_session on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.end_session(text)'::regprocedure;
