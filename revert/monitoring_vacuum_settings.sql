-- Revert pg-session-manager:monitoring_vacuum_settings from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  DROP COLUMN health_vacuum_overdue_critical,
  DROP COLUMN health_vacuum_overdue_warning;
COMMENT ON COLUMN session_manager.settings.health_dead_tuple_ratio_warning IS 'health_check dead_tuples: warning when a session table''s dead tuples are more than this fraction of its tuples.';
COMMENT ON COLUMN session_manager.settings.health_dead_tuple_ratio_critical IS 'health_check dead_tuples: critical when a session table''s dead tuples are more than this fraction of its tuples.';
COMMENT ON COLUMN session_manager.settings.health_dead_tuples_min IS 'health_check dead_tuples: tables with fewer dead tuples than this are not judged.';
COMMIT;
