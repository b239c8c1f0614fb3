-- Revert pg-session-manager:monitoring/cleanup_history from pg
SET lock_timeout = '3s';
BEGIN;
DROP VIEW session_manager.cleanup_history;
COMMIT;
