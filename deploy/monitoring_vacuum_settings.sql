-- Deploy pg-session-manager:monitoring_vacuum_settings to pg
-- requires: monitoring_settings
-- health_check's dead_tuples check now asks what autovacuum asks: is a table past its vacuum
-- trigger (autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor x reltuples, the
-- table's own reloptions first), and for how long without a vacuum. Its thresholds are that
-- time. The ratio thresholds no longer judge anything: a sessions table that every touch
-- updates holds more dead tuples than live ones a minute after autovacuum's last visit (the
-- demo: 20 s of chat traffic made the ratio critical), which is autovacuum working as designed
-- (naptime 1 min). They stay as columns, so that monitoring_settings' verify (and a DBA's
-- UPDATE naming them) keeps working; their comments say they are unused.
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  -- autovacuum looks at each database every autovacuum_naptime (1 min): a table past its trigger
  -- 10 minutes has been passed over about ten times (workers busy elsewhere, or cost-limited);
  -- an hour is autovacuum really behind.
  ADD COLUMN health_vacuum_overdue_warning interval NOT NULL DEFAULT interval '10 minutes'
    CONSTRAINT settings_health_vacuum_overdue_warning_range CHECK (health_vacuum_overdue_warning >= interval '0'),
  ADD COLUMN health_vacuum_overdue_critical interval NOT NULL DEFAULT interval '1 hour'
    CONSTRAINT settings_health_vacuum_overdue_order CHECK (health_vacuum_overdue_critical >= health_vacuum_overdue_warning);
COMMENT ON COLUMN session_manager.settings.health_vacuum_overdue_warning IS 'health_check dead_tuples: warning when a session table has been past its autovacuum trigger without a vacuum longer than this.';
COMMENT ON COLUMN session_manager.settings.health_vacuum_overdue_critical IS 'health_check dead_tuples: critical when a session table has been past its autovacuum trigger without a vacuum longer than this.';
COMMENT ON COLUMN session_manager.settings.health_dead_tuple_ratio_warning IS 'Unused since 0.5 (health_check judges dead tuples by autovacuum''s trigger: health_vacuum_overdue_*).';
COMMENT ON COLUMN session_manager.settings.health_dead_tuple_ratio_critical IS 'Unused since 0.5 (health_check judges dead tuples by autovacuum''s trigger: health_vacuum_overdue_*).';
COMMENT ON COLUMN session_manager.settings.health_dead_tuples_min IS 'health_check dead_tuples: tables with fewer dead tuples than this are not judged (besides autovacuum''s own trigger).';
COMMIT;
