-- Deploy pg-session-manager:cleanup_pacing_settings to pg
-- requires: settings interval_parts_check
-- How the scheduled cleanup (run_cleanup_job) yields to the chat: it pauses between its committed
-- batches, and stops when its run has taken its time budget, leaving the rest to the next run a
-- minute later. cleanup_old_sessions() (one transaction, one call) ignores both: a pause inside
-- a transaction would only hold its row locks longer. Defaults: bench/results/report.md,
-- "Cleanup that yields".
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  -- 100 ms: a 1,000-session batch takes some 40-300 ms of one core (more on a busy machine), so the job
  -- leaves the touches most of a core between batches. Measured with 200,000 idle sessions under a
  -- touch load on the shared 2-core machine: 56.9 s without a pause, 58.5 s with 100 ms; a normal
  -- minute's backlog (about 9 batches) takes about a second longer. Batches of 200 are slower per
  -- session (each batch reads the active-sessions index from its start).
  ADD COLUMN cleanup_batch_pause interval NOT NULL DEFAULT interval '100 milliseconds'
    CONSTRAINT settings_cleanup_batch_pause_range CHECK (cleanup_batch_pause BETWEEN interval '0' AND interval '10 seconds'
                                                      AND NOT session_manager.interval_has_negative_part(cleanup_batch_pause)),
  -- Under the job's minute, so that a run never delays the next one.
  ADD COLUMN cleanup_time_budget interval NOT NULL DEFAULT interval '45 seconds'
    CONSTRAINT settings_cleanup_time_budget_range CHECK (cleanup_time_budget BETWEEN interval '1 second' AND interval '1 day'
                                                      AND NOT session_manager.interval_has_negative_part(cleanup_time_budget));
COMMENT ON COLUMN session_manager.settings.cleanup_batch_pause IS 'run_cleanup_job sleeps this long after each committed batch that had more to do (0: no pause).';
COMMENT ON COLUMN session_manager.settings.cleanup_time_budget IS 'run_cleanup_job starts no new batch once its run has taken this long; the rest waits for the next run.';
COMMIT;
