-- Verify pg-session-manager:functions/run_cleanup_job on pg
-- The cast raises when the procedure is missing.
SELECT 'session_manager.run_cleanup_job()'::regprocedure;
