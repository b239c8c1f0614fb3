-- Revert pg-session-manager:settings_touch_resolution_parts from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings DROP CONSTRAINT settings_touch_resolution_one_sign;
COMMIT;
