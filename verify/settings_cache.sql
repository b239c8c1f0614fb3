-- Verify pg-session-manager:settings_cache on pg
-- Raises when a cached function is missing or disagrees with the settings row.
SELECT 1/(s.idle_timeout = session_manager.cached_idle_timeout()
          AND s.touch_resolution = session_manager.cached_touch_resolution())::int
FROM session_manager.settings s;
-- The trigger that rewrites them; on Citus (citus/reference_tables) they read the settings'
-- placement instead, and the settings are a reference table without that trigger.
SELECT 1/COUNT(*) FROM (
  SELECT 1 FROM pg_catalog.pg_trigger
  WHERE tgrelid = 'session_manager.settings'::regclass AND tgname = 'settings_refresh_cache'
  UNION ALL
  SELECT 1 FROM pg_catalog.pg_proc
  WHERE oid = 'session_manager.cached_idle_timeout()'::regprocedure AND prosrc LIKE '%settings\_%' AND provolatile = 's') AS found;
