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
-- >>> citus_views_save: the same block in each citus/* script that needs it (`sqitch bundle` copies only the
-- plan's scripts; tests/test_packaging.py keeps the copies identical).
-- Run by citus/reference_tables and citus/distributed_tables before they convert
-- tables: Citus recreates the views over a table it converts (session_stats, storage_stats) without
-- their grants and comments (measured: session_manager_monitor lost SELECT on both). Kept here in
-- temporary tables of this psql session; the citus_views_restore block gives them back.
CREATE TEMPORARY TABLE IF NOT EXISTS citus_view_grants AS
SELECT c.oid::pg_catalog.regclass::pg_catalog.text AS view_name, a.grantee::pg_catalog.regrole::pg_catalog.text AS grantee,
       a.privilege_type
FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
WHERE c.relkind OPERATOR(pg_catalog.=) 'v' AND c.relnamespace OPERATOR(pg_catalog.=) 'session_manager'::pg_catalog.regnamespace
  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner AND a.grantee OPERATOR(pg_catalog.<>) 0;
CREATE TEMPORARY TABLE IF NOT EXISTS citus_view_comments AS
SELECT c.oid::pg_catalog.regclass::pg_catalog.text AS view_name, d.description
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_description d
  ON d.objoid OPERATOR(pg_catalog.=) c.oid AND d.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.objsubid OPERATOR(pg_catalog.=) 0
WHERE c.relkind OPERATOR(pg_catalog.=) 'v' AND c.relnamespace OPERATOR(pg_catalog.=) 'session_manager'::pg_catalog.regnamespace;
-- <<< citus_views_save
SET LOCAL citus.enable_unsafe_triggers = on;
SELECT pg_catalog.undistribute_table('session_manager.settings');
-- >>> citus_views_restore: the same block in each citus/* script that needs it (`sqitch bundle` copies only the
-- plan's scripts; tests/test_packaging.py keeps the copies identical).
-- Run after the citus_views_save block and the conversions: the views' grants and
-- comments back as they were before.
SELECT pg_catalog.format('GRANT %s ON %s TO %s', g.privilege_type, g.view_name, g.grantee) FROM citus_view_grants g
\gexec
SELECT pg_catalog.format('COMMENT ON VIEW %s IS %L', c.view_name, c.description) FROM citus_view_comments c
\gexec
DROP TABLE citus_view_grants, citus_view_comments;
-- <<< citus_views_restore
CREATE TRIGGER settings_refresh_cache AFTER UPDATE ON session_manager.settings
  FOR EACH ROW EXECUTE FUNCTION session_manager.refresh_settings_cache();
-- The trigger rewrites cached_idle_timeout() and cached_touch_resolution() as constants again.
UPDATE session_manager.settings SET idle_timeout = idle_timeout;
COMMIT;
\endif
