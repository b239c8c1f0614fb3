-- Verify pg-session-manager:functions/cleanup_old_sessions on pg
-- The cast raises when the function is missing.
SELECT 'session_manager.cleanup_old_sessions(interval)'::regprocedure;
SELECT 'session_manager.deactivate_idle_batch(interval, integer, text)'::regprocedure;
