-- Revert pg-session-manager:monitoring/cleanup_job_status from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.cleanup_job_status();
COMMIT;
