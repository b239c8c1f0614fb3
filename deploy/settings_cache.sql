-- Deploy pg-session-manager:settings_cache to pg
-- requires: settings functions/internals
-- The hot paths read their settings from constant SQL functions instead of the settings row:
-- the planner folds an IMMUTABLE SQL function's constant into the cached plan, so a touch pays
-- nothing for its settings (reading the row on every touch measured about 7 % of touch
-- throughput, ../shared/CONTRACT.md). A plain UPDATE of session_manager.settings rewrites the
-- functions from a trigger; replacing a function invalidates every cached plan that folded it,
-- in every session, so the new value is in effect at the next call (sql_tests/025_settings_cache.sql).
SET lock_timeout = '3s';
BEGIN;

CREATE FUNCTION session_manager.refresh_settings_cache() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  setting record;
BEGIN
  FOR setting IN
    SELECT * FROM (VALUES
      ('cached_idle_timeout', 'pg_catalog.interval', NEW.idle_timeout::text),
      ('cached_touch_resolution', 'pg_catalog.interval', NEW.touch_resolution::text)
    ) AS v(name, type, value)
  LOOP
    EXECUTE format(
      'CREATE OR REPLACE FUNCTION session_manager.%I() RETURNS %s LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
      setting.name, setting.type, format('SELECT %L::%s', setting.value, setting.type));
    EXECUTE format('COMMENT ON FUNCTION session_manager.%I() IS %L', setting.name,
                   'The ' || substr(setting.name, 8) || ' setting as a constant, rewritten by every UPDATE of session_manager.settings.');
    EXECUTE format('REVOKE EXECUTE ON FUNCTION session_manager.%I() FROM PUBLIC', setting.name);
  END LOOP;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION session_manager.refresh_settings_cache() IS 'Trigger: rewrites the constant setting functions (cached_idle_timeout, cached_touch_resolution) from the settings row.';
REVOKE EXECUTE ON FUNCTION session_manager.refresh_settings_cache() FROM PUBLIC;

CREATE TRIGGER settings_refresh_cache AFTER UPDATE ON session_manager.settings
  FOR EACH ROW EXECUTE FUNCTION session_manager.refresh_settings_cache();
-- Create the functions from the current row.
UPDATE session_manager.settings SET idle_timeout = idle_timeout;
COMMIT;
