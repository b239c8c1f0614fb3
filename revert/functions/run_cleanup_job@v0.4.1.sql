-- Revert pg-session-manager:functions/run_cleanup_job from pg
-- Back to the @v0.3.0 version: the same procedure without the history row.
SET lock_timeout = '3s';
BEGIN;
-- What the pg_cron job CALLs every minute. A procedure, so it can COMMIT after each batch: a
-- touch waits behind one batch's row locks at most, never behind the whole run. Transaction
-- control rules out SECURITY DEFINER and a SET clause, so instead every relation, function and
-- operator below is schema-qualified; it runs with the rights of its caller (the job's owner).
CREATE OR REPLACE PROCEDURE session_manager.run_cleanup_job()
LANGUAGE plpgsql AS $$
DECLARE
  cfg session_manager.settings;
  done integer;
BEGIN
  SELECT * INTO cfg FROM session_manager.settings;
  LOOP
    done := session_manager.deactivate_idle_batch(cfg.idle_timeout, cfg.cleanup_batch_size, NULL);
    COMMIT;
    EXIT WHEN done OPERATOR(pg_catalog.<) cfg.cleanup_batch_size;
  END LOOP;
  IF cfg.retention IS NOT NULL THEN
    LOOP
      done := session_manager.purge_inactive_batch(cfg.retention, cfg.cleanup_batch_size);
      COMMIT;
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
END
$$;
COMMENT ON PROCEDURE session_manager.run_cleanup_job() IS 'The scheduled cleanup: deactivates idle sessions and applies retention, committing after each batch, then trims the job''s pg_cron history.';
REVOKE EXECUTE ON PROCEDURE session_manager.run_cleanup_job() FROM PUBLIC;
COMMIT;
