-- Revert pg-session-manager:monitoring/statement_stats from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.statement_stats();
COMMIT;
