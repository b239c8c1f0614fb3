-- Revert pg-session-manager:cleanup_batch_index_scan from pg
SET lock_timeout = '3s';
BEGIN;
ALTER FUNCTION session_manager.deactivate_idle_batch(interval, integer, text) RESET enable_seqscan;
COMMIT;
