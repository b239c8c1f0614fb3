-- Deploy pg-session-manager:settings_interval_parts to pg
-- requires: settings retention_settings interval_parts_check
-- The interval settings are timeouts too (interval_parts_check says why). Fails, naming the
-- constraint, if a setting already has a negative part: set it with one sign first.
-- The one-row table is scanned in no time; the lock is on the settings table only.
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  -- squawk-ignore constraint-missing-not-valid
  ADD CONSTRAINT settings_idle_timeout_one_sign CHECK (NOT session_manager.interval_has_negative_part(idle_timeout));
ALTER TABLE session_manager.settings
  -- squawk-ignore constraint-missing-not-valid
  ADD CONSTRAINT settings_retention_one_sign CHECK (NOT session_manager.interval_has_negative_part(retention));
ALTER TABLE session_manager.settings
  -- squawk-ignore constraint-missing-not-valid
  ADD CONSTRAINT settings_cron_history_retention_one_sign
    CHECK (NOT session_manager.interval_has_negative_part(cron_history_retention));
COMMIT;
