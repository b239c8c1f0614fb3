-- Verify pg-session-manager:monitoring/cleanup_job_status on pg
-- One row whatever pg_cron's state, or the division raises.
SELECT 1/COUNT(*) FROM session_manager.cleanup_job_status()
WHERE job_state IN ('scheduled', 'inactive', 'missing', 'unknown');
