-- Verify pg-session-manager:monitoring/cleanup_history on pg
SELECT run_id, started_at, finished_at, duration_ms, source, scoped, idle_timeout_seconds, deactivated, purged
FROM session_manager.cleanup_history WHERE FALSE;
