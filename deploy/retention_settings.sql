-- Deploy pg-session-manager:retention_settings to pg
-- requires: settings
-- Adding nullable or constant-default columns to the one-row settings table: no rewrite to speak of.
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  ADD COLUMN retention interval DEFAULT NULL
    CONSTRAINT settings_retention_positive CHECK (retention > interval '0'),
  ADD COLUMN cron_history_retention interval NOT NULL DEFAULT interval '1 day'
    CONSTRAINT settings_cron_history_retention_positive CHECK (cron_history_retention > interval '0');
COMMENT ON COLUMN session_manager.settings.retention IS 'Inactive sessions idle longer than this are deleted with their messages by the scheduled job; NULL (the default) keeps everything.';
COMMENT ON COLUMN session_manager.settings.cron_history_retention IS 'The cleanup job''s rows in cron.job_run_details older than this are deleted by the job itself.';
COMMIT;
