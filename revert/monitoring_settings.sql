-- Revert pg-session-manager:monitoring_settings from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  DROP COLUMN health_dead_tuples_min,
  DROP COLUMN health_dead_tuple_ratio_critical,
  DROP COLUMN health_dead_tuple_ratio_warning,
  DROP COLUMN health_touch_mean_ms_critical,
  DROP COLUMN health_touch_mean_ms_warning,
  DROP COLUMN health_backlog_age_critical,
  DROP COLUMN health_backlog_age_warning,
  DROP COLUMN health_backlog_critical,
  DROP COLUMN health_backlog_warning,
  DROP COLUMN health_cleanup_failures_critical,
  DROP COLUMN health_cleanup_failures_warning,
  DROP COLUMN health_cleanup_age_critical,
  DROP COLUMN health_cleanup_age_warning;
COMMIT;
