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
\ir ../../lib/citus_mode.sql
\if :citus_on
BEGIN;
\ir ../../lib/citus_views_save.sql
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
\ir ../../lib/citus_views_restore.sql
COMMENT ON FUNCTION session_manager.cached_idle_timeout() IS 'On Citus: the idle_timeout setting, read from this node''s placement of the settings (a reference table).';
COMMENT ON FUNCTION session_manager.cached_touch_resolution() IS 'On Citus: the touch_resolution setting, read from this node''s placement of the settings (a reference table).';
COMMIT;
\else
\echo citus/reference_tables: not distributing (see citus/preflight)
\endif
