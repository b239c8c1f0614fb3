-- Revert pg-session-manager:schedule_cleanup from pg
-- Removes this database's cleanup job, and only it, wherever pg_cron is present.
BEGIN;
DO $$
BEGIN
  IF pg_catalog.to_regclass('cron.job') IS NOT NULL THEN
    PERFORM cron.unschedule(j.jobid) FROM cron.job j
    WHERE j.jobname = 'session_manager_cleanup_' || pg_catalog.current_database() AND j.username = current_user;
  END IF;
END
$$;
COMMIT;
