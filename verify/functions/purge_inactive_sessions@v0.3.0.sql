-- Verify pg-session-manager:functions/purge_inactive_sessions on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.purge_inactive_sessions(interval)'::regprocedure;
SELECT 'session_manager.purge_inactive_batch(interval, integer)'::regprocedure;
