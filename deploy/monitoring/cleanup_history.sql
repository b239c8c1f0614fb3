-- Deploy pg-session-manager:monitoring/cleanup_history to pg
-- requires: cleanup_runs
-- The committed cleanup runs, newest first, for the monitoring role (which may not read the
-- table itself). Failed runs are in cleanup_job_status().
SET lock_timeout = '3s';
BEGIN;
CREATE VIEW session_manager.cleanup_history AS
SELECT r.run_id,
       r.started_at,
       r.finished_at,
       EXTRACT(EPOCH FROM r.finished_at - r.started_at) * 1000 AS duration_ms,
       r.source,
       r.scoped,
       pg_catalog.trim_scale(EXTRACT(EPOCH FROM r.idle_timeout)) AS idle_timeout_seconds,
       r.deactivated,
       r.purged
FROM session_manager.cleanup_runs r
ORDER BY r.run_id DESC;
COMMENT ON VIEW session_manager.cleanup_history IS 'The latest committed cleanup runs (at most cleanup_history_rows), newest first: start, finish, duration (ms), source (cron or direct), whether scoped to one user, and how many sessions were deactivated and purged.';
COMMIT;
