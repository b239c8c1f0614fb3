-- Revert pg-session-manager:settings from pg
BEGIN;
DROP TABLE session_manager.settings;
DROP FUNCTION session_manager.settings_keep_one_row();
COMMIT;
