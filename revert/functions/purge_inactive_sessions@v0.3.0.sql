-- Revert pg-session-manager:functions/purge_inactive_sessions from pg
BEGIN;
DROP FUNCTION session_manager.purge_inactive_sessions(interval);
DROP FUNCTION session_manager.purge_inactive_batch(interval, integer);
COMMIT;
