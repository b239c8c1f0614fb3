-- Verify pg-session-manager:functions/touch_sessions on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.touch_sessions(text[])'::regprocedure;
