-- Revert pg-session-manager:monitoring/cleanup_totals from pg
SET lock_timeout = '3s';
BEGIN;
DROP VIEW session_manager.cleanup_totals;
DROP TRIGGER cleanup_runs_count ON session_manager.cleanup_runs;
DROP FUNCTION session_manager.count_cleanup_run();
DROP TABLE session_manager.cleanup_counter_deltas;
DROP TABLE session_manager.cleanup_counter;
COMMIT;
