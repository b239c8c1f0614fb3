-- Deploy pg-session-manager:monitoring_grants to pg
-- requires: roles monitoring/function_stats monitoring/statement_stats monitoring/session_stats monitoring/storage_stats monitoring/cleanup_history monitoring/cleanup_job_status monitoring/health_check
-- session_manager_monitor reads the monitoring views and calls the monitoring functions; nothing
-- else (no table, no session function). The application's role gets none of them. Reading
-- other roles' statement texts in statement_stats() needs pg_read_all_stats, which only an
-- administrator grants (docs/monitoring.md).
SET lock_timeout = '3s';
BEGIN;
GRANT SELECT ON session_manager.function_stats, session_manager.session_stats, session_manager.storage_stats,
  session_manager.cleanup_history
TO session_manager_monitor;
GRANT EXECUTE ON FUNCTION session_manager.statement_stats(), session_manager.cleanup_job_status(),
  session_manager.health_check()
TO session_manager_monitor;
COMMIT;
