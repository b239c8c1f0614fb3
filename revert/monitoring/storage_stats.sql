-- Revert pg-session-manager:monitoring/storage_stats from pg
SET lock_timeout = '3s';
BEGIN;
DROP VIEW session_manager.storage_stats;
COMMIT;
