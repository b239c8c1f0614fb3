-- Deploy pg-session-manager:settings_interval_bounds to pg
-- requires: settings retention_settings
-- now() - idle_timeout (and - retention) must stay inside timestamptz's range (from 4713 BC):
-- an idle_timeout of 10,000 years passed the first CHECK and made every function fail with
-- 22008 (found by tests/test_reliability_hostile_input.py). 100 years is far beyond any use.
-- The one-row table is scanned in no time; the lock is on the settings table only.
SET lock_timeout = '3s';
BEGIN;
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE session_manager.settings ADD CONSTRAINT settings_idle_timeout_bounded CHECK (idle_timeout <= interval '100 years');
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE session_manager.settings ADD CONSTRAINT settings_retention_bounded CHECK (retention <= interval '100 years');
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE session_manager.settings ADD CONSTRAINT settings_cron_history_retention_bounded CHECK (cron_history_retention <= interval '100 years');
COMMIT;
