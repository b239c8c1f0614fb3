-- Verify pg-session-manager:functions/run_cleanup_job on pg
-- The division raises when the procedure is missing, does not record its runs or keeps no budget.
SELECT 1/COUNT(*) FROM pg_catalog.pg_proc
WHERE oid = 'session_manager.run_cleanup_job()'::regprocedure
  AND prosrc LIKE '%session_manager.record_cleanup_run(%'
  AND prosrc LIKE '%cleanup_time_budget%';
