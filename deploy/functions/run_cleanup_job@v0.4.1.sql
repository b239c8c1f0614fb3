-- Deploy pg-session-manager:functions/run_cleanup_job to pg
-- requires: functions/run_cleanup_job@v0.3.0 cleanup_runs
-- Reworked: the same procedure, and each run now leaves a row in cleanup_runs, written in its
-- last transaction, after the last batch committed.
SET lock_timeout = '3s';
BEGIN;
-- What the pg_cron job CALLs every minute. A procedure, so it can COMMIT after each batch: a
-- touch waits behind one batch's row locks at most, never behind the whole run. Transaction
-- control rules out SECURITY DEFINER and a SET clause, so instead every relation, function and
-- operator below is schema-qualified; it runs with the rights of its caller (the job's owner).
-- The run's source is 'cron' when pg_cron runs it: its background workers have backend_type
-- 'pg_cron' (cron.use_background_workers = on), its libpq sessions application_name 'pg_cron'.
-- 'direct' when someone CALLs it by hand.
CREATE OR REPLACE PROCEDURE session_manager.run_cleanup_job()
LANGUAGE plpgsql AS $$
DECLARE
  cfg session_manager.settings;
  started timestamptz := pg_catalog.clock_timestamp();
  done integer;
  deactivated integer := 0;
  purged bigint := 0;
BEGIN
  SELECT * INTO cfg FROM session_manager.settings;
  LOOP
    done := session_manager.deactivate_idle_batch(cfg.idle_timeout, cfg.cleanup_batch_size, NULL);
    COMMIT;
    deactivated := deactivated OPERATOR(pg_catalog.+) done;
    EXIT WHEN done OPERATOR(pg_catalog.<) cfg.cleanup_batch_size;
  END LOOP;
  IF cfg.retention IS NOT NULL THEN
    LOOP
      done := session_manager.purge_inactive_batch(cfg.retention, cfg.cleanup_batch_size);
      COMMIT;
      purged := purged OPERATOR(pg_catalog.+) done;
      EXIT WHEN done OPERATOR(pg_catalog.<) cfg.cleanup_batch_size;
    END LOOP;
  END IF;
  -- pg_cron never purges its run records: keep this job's bounded.
  IF pg_catalog.to_regclass('cron.job_run_details') IS NOT NULL THEN
    EXECUTE 'DELETE FROM cron.job_run_details d USING cron.job j
             WHERE d.jobid OPERATOR(pg_catalog.=) j.jobid
               AND j.jobname OPERATOR(pg_catalog.=) $1
               AND d.end_time OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) $2)'
      USING 'session_manager_cleanup_' OPERATOR(pg_catalog.||) pg_catalog.current_database(), cfg.cron_history_retention;
  END IF;
  PERFORM session_manager.record_cleanup_run(
    started,
    CASE WHEN pg_catalog.current_setting('application_name') OPERATOR(pg_catalog.=) 'pg_cron'
           OR (SELECT a.backend_type FROM pg_catalog.pg_stat_activity a
               WHERE a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()) OPERATOR(pg_catalog.=) 'pg_cron'
         THEN 'cron' ELSE 'direct' END,
    false, cfg.idle_timeout, deactivated, purged);
END
$$;
COMMENT ON PROCEDURE session_manager.run_cleanup_job() IS 'The scheduled cleanup: deactivates idle sessions and applies retention, committing after each batch, trims the job''s pg_cron history, and records the run in cleanup_runs.';
REVOKE EXECUTE ON PROCEDURE session_manager.run_cleanup_job() FROM PUBLIC;
COMMIT;
