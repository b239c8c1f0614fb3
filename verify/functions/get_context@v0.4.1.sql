-- Verify pg-session-manager:functions/get_context on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.get_context(text, integer)'::regprocedure;
