-- Revert pg-session-manager:monitoring_grants from pg
SET lock_timeout = '3s';
BEGIN;
REVOKE EXECUTE ON FUNCTION session_manager.statement_stats(), session_manager.cleanup_job_status(),
  session_manager.health_check()
FROM session_manager_monitor;
REVOKE SELECT ON session_manager.function_stats, session_manager.session_stats, session_manager.storage_stats,
  session_manager.cleanup_history
FROM session_manager_monitor;
COMMIT;
