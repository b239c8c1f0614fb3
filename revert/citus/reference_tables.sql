-- Revert pg-session-manager:citus/reference_tables from pg
-- The settings come back to the coordinator alone with their cache trigger; public."user" stays a
-- reference table: it is the application's, and the sessions, which stay distributed, reference
-- it (README, "Citus").
SET lock_timeout = '3s';
-- Citus explains each conversion in NOTICEs (shards, copies, local tables): warnings only.
SET client_min_messages = warning;
\set settings_distributed false
SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL AS citus_installed \gset
\if :citus_installed
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
               WHERE p.logicalrelid OPERATOR(pg_catalog.=) 'session_manager.settings'::pg_catalog.regclass) AS settings_distributed \gset
\endif
\if :settings_distributed
BEGIN;
\ir ../../lib/citus_views_save.sql
SET LOCAL citus.enable_unsafe_triggers = on;
SELECT pg_catalog.undistribute_table('session_manager.settings');
\ir ../../lib/citus_views_restore.sql
CREATE TRIGGER settings_refresh_cache AFTER UPDATE ON session_manager.settings
  FOR EACH ROW EXECUTE FUNCTION session_manager.refresh_settings_cache();
-- The trigger rewrites cached_idle_timeout() and cached_touch_resolution() as constants again.
UPDATE session_manager.settings SET idle_timeout = idle_timeout;
COMMIT;
\endif
