-- Verify pg-session-manager:functions/get_session_info on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.get_session_info(text)'::regprocedure;
