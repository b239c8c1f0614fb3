-- Deploy pg-session-manager:monitoring_settings to pg
-- requires: settings
-- The thresholds of session_manager.health_check(): a check is 'warning' when its value is above
-- the *_warning setting and 'critical' when above the *_critical one. Constant defaults on the
-- one-row settings table: no rewrite to speak of.
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  -- The job runs every minute: five missed runs warn, fifteen are critical.
  ADD COLUMN health_cleanup_age_warning interval NOT NULL DEFAULT interval '5 minutes'
    CONSTRAINT settings_health_cleanup_age_warning_positive CHECK (health_cleanup_age_warning > interval '0'),
  ADD COLUMN health_cleanup_age_critical interval NOT NULL DEFAULT interval '15 minutes'
    CONSTRAINT settings_health_cleanup_age_order CHECK (health_cleanup_age_critical >= health_cleanup_age_warning),
  ADD COLUMN health_cleanup_failures_warning integer NOT NULL DEFAULT 0
    CONSTRAINT settings_health_cleanup_failures_warning_range CHECK (health_cleanup_failures_warning >= 0),
  ADD COLUMN health_cleanup_failures_critical integer NOT NULL DEFAULT 2
    CONSTRAINT settings_health_cleanup_failures_order CHECK (health_cleanup_failures_critical >= health_cleanup_failures_warning),
  ADD COLUMN health_backlog_warning bigint NOT NULL DEFAULT 1000
    CONSTRAINT settings_health_backlog_warning_range CHECK (health_backlog_warning >= 0),
  ADD COLUMN health_backlog_critical bigint NOT NULL DEFAULT 10000
    CONSTRAINT settings_health_backlog_order CHECK (health_backlog_critical >= health_backlog_warning),
  ADD COLUMN health_backlog_age_warning interval NOT NULL DEFAULT interval '5 minutes'
    CONSTRAINT settings_health_backlog_age_warning_range CHECK (health_backlog_age_warning >= interval '0'),
  ADD COLUMN health_backlog_age_critical interval NOT NULL DEFAULT interval '15 minutes'
    CONSTRAINT settings_health_backlog_age_order CHECK (health_backlog_age_critical >= health_backlog_age_warning),
  -- A touch takes well under a millisecond inside the server (docs/monitoring.md).
  ADD COLUMN health_touch_mean_ms_warning numeric NOT NULL DEFAULT 5
    CONSTRAINT settings_health_touch_mean_ms_warning_range CHECK (health_touch_mean_ms_warning >= 0),
  ADD COLUMN health_touch_mean_ms_critical numeric NOT NULL DEFAULT 50
    CONSTRAINT settings_health_touch_mean_ms_order CHECK (health_touch_mean_ms_critical >= health_touch_mean_ms_warning),
  ADD COLUMN health_dead_tuple_ratio_warning numeric NOT NULL DEFAULT 0.2
    CONSTRAINT settings_health_dead_tuple_ratio_warning_range CHECK (health_dead_tuple_ratio_warning BETWEEN 0 AND 1),
  ADD COLUMN health_dead_tuple_ratio_critical numeric NOT NULL DEFAULT 0.5
    CONSTRAINT settings_health_dead_tuple_ratio_order CHECK (health_dead_tuple_ratio_critical BETWEEN health_dead_tuple_ratio_warning AND 1),
  -- Below this many dead tuples a table is not judged: autovacuum's business, and a small
  -- table's ratio swings with every few updates.
  ADD COLUMN health_dead_tuples_min bigint NOT NULL DEFAULT 1000
    CONSTRAINT settings_health_dead_tuples_min_range CHECK (health_dead_tuples_min >= 0);
COMMENT ON COLUMN session_manager.settings.health_cleanup_age_warning IS 'health_check cleanup_age: warning when the last whole-table cleanup finished longer ago than this.';
COMMENT ON COLUMN session_manager.settings.health_cleanup_age_critical IS 'health_check cleanup_age: critical when the last whole-table cleanup finished longer ago than this.';
COMMENT ON COLUMN session_manager.settings.health_cleanup_failures_warning IS 'health_check cleanup_failures: warning when more of the cleanup job''s latest runs than this failed in a row.';
COMMENT ON COLUMN session_manager.settings.health_cleanup_failures_critical IS 'health_check cleanup_failures: critical when more of the cleanup job''s latest runs than this failed in a row.';
COMMENT ON COLUMN session_manager.settings.health_backlog_warning IS 'health_check idle_backlog: warning when more active sessions than this are idle past idle_timeout.';
COMMENT ON COLUMN session_manager.settings.health_backlog_critical IS 'health_check idle_backlog: critical when more active sessions than this are idle past idle_timeout.';
COMMENT ON COLUMN session_manager.settings.health_backlog_age_warning IS 'health_check idle_backlog_age: warning when the oldest uncleaned session has been past idle_timeout longer than this.';
COMMENT ON COLUMN session_manager.settings.health_backlog_age_critical IS 'health_check idle_backlog_age: critical when the oldest uncleaned session has been past idle_timeout longer than this.';
COMMENT ON COLUMN session_manager.settings.health_touch_mean_ms_warning IS 'health_check touch_mean_time: warning when touch_session takes longer than this many milliseconds on average.';
COMMENT ON COLUMN session_manager.settings.health_touch_mean_ms_critical IS 'health_check touch_mean_time: critical when touch_session takes longer than this many milliseconds on average.';
COMMENT ON COLUMN session_manager.settings.health_dead_tuple_ratio_warning IS 'health_check dead_tuples: warning when a session table''s dead tuples are more than this fraction of its tuples.';
COMMENT ON COLUMN session_manager.settings.health_dead_tuple_ratio_critical IS 'health_check dead_tuples: critical when a session table''s dead tuples are more than this fraction of its tuples.';
COMMENT ON COLUMN session_manager.settings.health_dead_tuples_min IS 'health_check dead_tuples: tables with fewer dead tuples than this are not judged.';
COMMIT;
