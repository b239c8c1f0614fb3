-- Revert pg-session-manager:cleanup_pacing_settings from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings DROP COLUMN cleanup_time_budget, DROP COLUMN cleanup_batch_pause;
COMMIT;
