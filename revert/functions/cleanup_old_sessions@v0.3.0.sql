-- Revert pg-session-manager:functions/cleanup_old_sessions from pg
BEGIN;
DROP FUNCTION session_manager.deactivate_idle_batch(interval, integer, text);
DROP FUNCTION session_manager.cleanup_old_sessions(interval);
COMMIT;
