-- Deploy pg-session-manager:settings_touch_resolution_parts to pg
-- requires: settings interval_parts_check
-- touch_resolution is compared with idle_timeout as an interval (a month counted as 30 days) but
-- applied as now() - touch_resolution, on today's calendar. With a negative part the two disagree:
-- '1 year -359 days' passed settings_touch_resolution_range as 1 day (a year is 360 days there) below an
-- idle_timeout of 2 days, but reached 6 days back; then every touch of a session idle for less than 6
-- days skipped its write, so sessions in use went idle. settings_interval_parts gave the other interval settings this check; this one was missed.
-- Fails, naming the constraint, if touch_resolution already has a negative part: set it with one
-- sign first. The one-row table is scanned in no time; the lock is on the settings table only.
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  -- squawk-ignore constraint-missing-not-valid
  ADD CONSTRAINT settings_touch_resolution_one_sign CHECK (NOT session_manager.interval_has_negative_part(touch_resolution));
COMMIT;
