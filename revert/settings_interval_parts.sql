-- Revert pg-session-manager:settings_interval_parts from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  DROP CONSTRAINT settings_cron_history_retention_one_sign,
  DROP CONSTRAINT settings_retention_one_sign,
  DROP CONSTRAINT settings_idle_timeout_one_sign;
COMMIT;
