-- Verify pg-session-manager:functions/touch_session on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.touch_session(text)'::regprocedure;
