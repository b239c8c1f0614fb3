-- Verify pg-session-manager:settings_cache on pg
-- Raises when a cached function is missing or disagrees with the settings row.
SELECT 1/(s.idle_timeout = session_manager.cached_idle_timeout()
          AND s.touch_resolution = session_manager.cached_touch_resolution())::int
FROM session_manager.settings s;
SELECT 1/COUNT(*) FROM pg_catalog.pg_trigger
WHERE tgrelid = 'session_manager.settings'::regclass AND tgname = 'settings_refresh_cache';
