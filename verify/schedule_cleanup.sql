-- Verify pg-session-manager:schedule_cleanup on pg
\if :schedule
-- Exactly one job of this name, every minute, calling the package's cleanup.
SELECT 1/(COUNT(*) = 1)::int FROM cron.job
WHERE jobname = 'session_manager_cleanup_' || pg_catalog.current_database()
  AND schedule = '* * * * *' AND command = 'CALL session_manager.run_cleanup_job()';
\else
SELECT 'session_manager.run_cleanup_job()'::regprocedure;
\endif
