-- Verify pg-session-manager:functions/list_user_sessions on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.list_user_sessions(text, boolean)'::regprocedure;
