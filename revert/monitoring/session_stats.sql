-- Revert pg-session-manager:monitoring/session_stats from pg
SET lock_timeout = '3s';
BEGIN;
DROP VIEW session_manager.session_stats;
COMMIT;
