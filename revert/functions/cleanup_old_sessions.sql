-- Deploy pg-session-manager:functions/cleanup_old_sessions to pg
-- requires: functions/cleanup_old_sessions@v0.3.0 cleanup_runs
-- Reworked: the same contract, and each committed run now leaves a row in cleanup_runs
-- (source 'direct'). deactivate_idle_batch is unchanged.
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: the application's role may call it but may not UPDATE the table (nor write
-- the history).
CREATE OR REPLACE FUNCTION session_manager.cleanup_old_sessions(idle_timeout interval DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  started timestamptz := clock_timestamp();
  effective interval;
  batch_size integer;
  deactivated integer;
  total integer := 0;
BEGIN
  IF cleanup_old_sessions.idle_timeout <= interval '0' THEN
    PERFORM session_manager.raise_invalid('22023',
      format('idle_timeout must be a positive interval, got %s', cleanup_old_sessions.idle_timeout),
      'Pass a positive interval such as ''30 minutes'', or NULL for the idle_timeout setting.');
  END IF;
  SELECT COALESCE(cleanup_old_sessions.idle_timeout, s.idle_timeout), s.cleanup_batch_size
  INTO effective, batch_size FROM session_manager.settings s;
  -- A positive interval reaching back past the calendar's start (about 4713 BC: some 6,700 years)
  -- is still a valid timeout: no session is that idle, so nothing is deactivated.
  BEGIN
    PERFORM now() - effective;
  EXCEPTION WHEN datetime_field_overflow THEN
    PERFORM session_manager.record_cleanup_run(started, 'direct', acting_user IS NOT NULL, effective, 0, 0);
    RETURN 0;
  END;
  -- cleanup_batch_size 1,000: under a touch load a batch held its row locks a median 42 ms (p90
  -- 52 ms), against 252 ms at 5,000 and 422 ms at 10,000, for about the same total time (2.0-3.1 s
  -- per 30,000 sessions at every size; bench/results/report.md, "Choosing cleanup_batch_size").
  -- A touch never waits on them: its UPDATE requires a live row, and a batch holds idle ones.
  LOOP
    deactivated := session_manager.deactivate_idle_batch(effective, batch_size, acting_user);
    total := total + deactivated;
    EXIT WHEN deactivated < batch_size;
  END LOOP;
  -- In the caller's transaction: the row exists only if the cleanup commits.
  PERFORM session_manager.record_cleanup_run(started, 'direct', acting_user IS NOT NULL, effective, total, 0);
  RETURN total;
END
$$;
COMMENT ON FUNCTION session_manager.cleanup_old_sessions(interval) IS 'Soft-deletes (isActive = false) every active session idle strictly longer than idle_timeout (NULL: the setting), in batches that skip locked rows, records the run in cleanup_runs, and returns how many.';
REVOKE EXECUTE ON FUNCTION session_manager.cleanup_old_sessions(interval) FROM PUBLIC;
COMMIT;
