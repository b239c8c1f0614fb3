-- Verify pg-session-manager:functions/version on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.version()'::regprocedure;
