-- Deploy pg-session-manager:schedule_cleanup to pg
-- requires: functions/run_cleanup_job
-- The cleanup job in pg_cron: every minute (pg_cron 1.4's finest grain), one CALL.
-- cron.schedule(name, ...) replaces a job of the same name and user, so deploying again leaves
-- one job. Skipped with `sqitch deploy --set schedule=off` (pg_cron lives in another database,
-- or is not installed): see the README for cron.schedule_in_database.
SET lock_timeout = '3s';
\if :schedule
BEGIN;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
    RAISE EXCEPTION USING
      ERRCODE = '55000',
      MESSAGE = 'pg_cron is not installed in database ' || pg_catalog.current_database(),
      HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name = ''' || pg_catalog.current_database()
             || ''' (restart), have an administrator run CREATE EXTENSION pg_cron and GRANT USAGE ON SCHEMA cron to the deploying role; '
             || 'or deploy without scheduling: sqitch deploy --set schedule=off.';
  END IF;
  PERFORM cron.schedule('session_manager_cleanup_' || pg_catalog.current_database(), '* * * * *',
                        'CALL session_manager.run_cleanup_job()');
END
$$;
COMMIT;
\else
\echo 'schedule=off: the cleanup job was not scheduled (see README, Scheduling)'
\endif
