-- Revert pg-session-manager:retention_settings from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings DROP COLUMN cron_history_retention, DROP COLUMN retention;
COMMIT;
