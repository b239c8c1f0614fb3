-- Verify pg-session-manager:cleanup_runs on pg
SELECT cleanup_history_rows FROM session_manager.settings WHERE FALSE;
SELECT run_id, started_at, finished_at, source, scoped, idle_timeout, deactivated, purged
FROM session_manager.cleanup_runs WHERE FALSE;
SELECT 'session_manager.record_cleanup_run(timestamptz, text, boolean, interval, integer, bigint)'::regprocedure;
