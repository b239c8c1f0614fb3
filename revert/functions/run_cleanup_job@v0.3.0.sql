-- Revert pg-session-manager:functions/run_cleanup_job from pg
BEGIN;
DROP PROCEDURE session_manager.run_cleanup_job();
COMMIT;
