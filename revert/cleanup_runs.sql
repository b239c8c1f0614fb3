-- Revert pg-session-manager:cleanup_runs from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.record_cleanup_run(timestamptz, text, boolean, interval, integer, bigint);
DROP TABLE session_manager.cleanup_runs;
ALTER TABLE session_manager.settings DROP COLUMN cleanup_history_rows;
COMMIT;
