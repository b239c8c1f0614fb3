-- Revert pg-session-manager:monitoring/function_stats from pg
SET lock_timeout = '3s';
BEGIN;
DROP VIEW session_manager.function_stats;
COMMIT;
