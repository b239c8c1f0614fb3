-- Deploy pg-session-manager:cleanup_runs to pg
-- requires: retention_settings
-- Every committed cleanup run leaves a row here: when it started and finished, what it did, and
-- who ran it ('cron': the scheduled job; 'direct': a call of cleanup_old_sessions or a CALL of
-- the job's procedure by hand). Failed runs leave none (their transaction rolled back); the
-- pg_cron job's own run records report those (cleanup_job_status). The writer trims the table,
-- so it stays bounded by the setting cleanup_history_rows.
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  -- 10,080 rows: a week of the every-minute job.
  ADD COLUMN cleanup_history_rows integer NOT NULL DEFAULT 10080
    CONSTRAINT settings_cleanup_history_rows_range CHECK (cleanup_history_rows BETWEEN 1 AND 10000000);
COMMENT ON COLUMN session_manager.settings.cleanup_history_rows IS 'session_manager.cleanup_runs keeps at most this many of the latest cleanup runs.';

CREATE TABLE session_manager.cleanup_runs (
  run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  source text NOT NULL CONSTRAINT cleanup_runs_source_valid CHECK (source IN ('cron', 'direct')),
  -- A run scoped to one user (session_manager.user_id set) cleans only that user's sessions; the
  -- health check does not count it as a cleanup of the whole table. The user is not recorded.
  scoped boolean NOT NULL,
  idle_timeout interval NOT NULL,
  deactivated integer NOT NULL CONSTRAINT cleanup_runs_deactivated_not_negative CHECK (deactivated >= 0),
  purged bigint NOT NULL CONSTRAINT cleanup_runs_purged_not_negative CHECK (purged >= 0),
  CONSTRAINT cleanup_runs_finished_after_start CHECK (finished_at >= started_at)
);
-- "the last run" and "the runs of the last hour" read this index backwards.
CREATE INDEX cleanup_runs_finished_at ON session_manager.cleanup_runs (finished_at);
COMMENT ON TABLE session_manager.cleanup_runs IS 'One row per committed cleanup run, the latest cleanup_history_rows kept.';

-- Called by cleanup_old_sessions and run_cleanup_job at the end of a run, in its last
-- transaction. Trimming by run_id keeps the cost of a write constant (one index range, in the
-- steady state one row); ids lost to rolled-back runs only make the table keep fewer rows.
-- SKIP LOCKED: two cleanups never wait on each other (cleanup_old_sessions' contract), here
-- neither; a row another run is trimming is left to it, or to the next run if that one aborts.
CREATE FUNCTION session_manager.record_cleanup_run(started_at timestamptz, source text, scoped boolean,
                                                   idle_timeout interval, deactivated integer, purged bigint)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  new_id bigint;
  keep integer;
BEGIN
  INSERT INTO session_manager.cleanup_runs (started_at, finished_at, source, scoped, idle_timeout, deactivated, purged)
  VALUES (record_cleanup_run.started_at, clock_timestamp(), record_cleanup_run.source, record_cleanup_run.scoped,
          record_cleanup_run.idle_timeout, record_cleanup_run.deactivated, record_cleanup_run.purged)
  RETURNING run_id INTO new_id;
  SELECT s.cleanup_history_rows INTO keep FROM session_manager.settings s;
  DELETE FROM session_manager.cleanup_runs r
  WHERE r.run_id IN (SELECT o.run_id FROM session_manager.cleanup_runs o
                     WHERE o.run_id <= new_id - keep
                     FOR UPDATE SKIP LOCKED);
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION session_manager.record_cleanup_run(timestamptz, text, boolean, interval, integer, bigint) IS 'Records a finished cleanup run in cleanup_runs, deletes the runs beyond the latest cleanup_history_rows, and returns the new run_id.';
REVOKE EXECUTE ON FUNCTION session_manager.record_cleanup_run(timestamptz, text, boolean, interval, integer, bigint) FROM PUBLIC;
COMMIT;
