-- Deploy pg-session-manager:citus/reference_tables to pg
-- requires: citus/shard_keys settings_cache
-- A copy on every node of what every node's functions read:
-- * session_manager.settings: a delegated call runs on the worker holding its session and reads
--   the settings there (without them every function failed on a worker). Its cache (the constant
--   functions settings_cache rewrites from a trigger) cannot follow: Citus refuses tables with
--   triggers (the two that keep its one row run on every placement, with
--   citus.enable_unsafe_triggers for the creation), and a trigger on a worker's placement cannot
--   replace a function Citus keeps on every node. The hot paths read the row instead (about 7 % of
--   a touch on one node, ../shared/CONTRACT.md), and a plain UPDATE still holds at the next call.
-- * public."user": the sessions are distributed by id (their primary key), so their foreign key
--   to "user" (ON DELETE CASCADE, the application's) can stay only if "user" is a reference
--   table. Citus turns the tables linked to it by foreign keys (the sessions, active_chats) into
--   Citus local tables until citus/distributed_tables distributes them.
SET lock_timeout = '3s';
-- Citus explains each conversion in NOTICEs (shards, copies, local tables): warnings only.
SET client_min_messages = warning;
-- >>> citus_mode: the same block in each citus/* script that needs it (`sqitch bundle` copies only the
-- plan's scripts; tests/test_packaging.py keeps the copies identical).
-- sets the psql variable citus_on to true when this
-- database is a Citus coordinator the package distributes itself on, false otherwise (the
-- package then stays as on plain PostgreSQL and every citus/* change does nothing).
-- True when: the sqitch variable citus is not off (sqitch deploy --set citus=off), the citus
-- extension is in this database, this node is the coordinator (group 0) and at least one active
-- primary worker is registered (../shared/CONTRACT.md, "Citus").
\if :{?citus}
\else
\set citus on
\endif
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') AS citus_installed \gset
\if :citus_installed
SELECT :'citus' OPERATOR(pg_catalog.<>) 'off'
       AND pg_catalog.citus_is_coordinator()
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node n
                   WHERE n.groupid OPERATOR(pg_catalog.<>) 0 AND n.noderole OPERATOR(pg_catalog.=) 'primary'
                     AND n.isactive AND n.shouldhaveshards) AS citus_on \gset
\else
\set citus_on false
\endif
-- <<< citus_mode
\if :citus_on
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
DROP TRIGGER settings_refresh_cache ON session_manager.settings;
SET LOCAL citus.enable_unsafe_triggers = on;
SELECT pg_catalog.create_reference_table('session_manager.settings');
SELECT pg_catalog.create_reference_table('public."user"')
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                  WHERE p.logicalrelid OPERATOR(pg_catalog.=) 'public."user"'::pg_catalog.regclass
                    AND p.partmethod OPERATOR(pg_catalog.=) 'n' AND p.repmodel OPERATOR(pg_catalog.=) 't');
-- The hot paths' settings functions read their node's placement of the settings (the reference
-- table's one shard, under the same name on every node): reading the distributed table itself from
-- a query Citus pushes to a shard (touch_session's check) is a nested distributed query, which
-- Citus refuses ("cannot execute a distributed query from a query on a shard").
SELECT pg_catalog.format(
         'CREATE OR REPLACE FUNCTION session_manager.%I() RETURNS pg_catalog.interval LANGUAGE sql STABLE PARALLEL SAFE '
         'AS %L', f.name, pg_catalog.format('SELECT s.%I FROM %s s', f.setting, pg_catalog.shard_name(d.logicalrelid, d.shardid)))
FROM pg_catalog.pg_dist_shard d,
     (VALUES ('cached_idle_timeout', 'idle_timeout'), ('cached_touch_resolution', 'touch_resolution')) AS f(name, setting)
WHERE d.logicalrelid OPERATOR(pg_catalog.=) 'session_manager.settings'::pg_catalog.regclass
\gexec
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
COMMENT ON FUNCTION session_manager.cached_idle_timeout() IS 'On Citus: the idle_timeout setting, read from this node''s placement of the settings (a reference table).';
COMMENT ON FUNCTION session_manager.cached_touch_resolution() IS 'On Citus: the touch_resolution setting, read from this node''s placement of the settings (a reference table).';
COMMIT;
\else
\echo citus/reference_tables: not distributing (see citus/preflight)
\endif
