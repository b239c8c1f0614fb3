-- Revert pg-session-manager:settings_cache from pg
SET lock_timeout = '3s';
BEGIN;
DROP TRIGGER settings_refresh_cache ON session_manager.settings;
DROP FUNCTION session_manager.refresh_settings_cache();
DROP FUNCTION session_manager.cached_idle_timeout();
DROP FUNCTION session_manager.cached_touch_resolution();
COMMIT;
