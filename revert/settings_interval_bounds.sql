-- Revert pg-session-manager:settings_interval_bounds from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  DROP CONSTRAINT settings_cron_history_retention_bounded,
  DROP CONSTRAINT settings_retention_bounded,
  DROP CONSTRAINT settings_idle_timeout_bounded;
COMMIT;
