-- Revert pg-session-manager:citus/distributed_tables from pg
-- The package's own tables come back to the coordinator (undistribute_table copies their rows
-- back, blocking writes to them meanwhile; a full revert drops them next). The application's
-- "conversationSessions" stays distributed by id, every row where it is: taking it back to one
-- node is the DBA's decision (SELECT undistribute_table('public."conversationSessions"',
-- cascade_via_foreign_keys := true) copies it back and blocks its writes meanwhile).
SET lock_timeout = '3s';
-- Citus explains each conversion in NOTICEs (shards, copies, local tables): warnings only.
SET client_min_messages = warning;
\set messages_distributed false
SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL AS citus_installed \gset
\if :citus_installed
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
               WHERE p.logicalrelid OPERATOR(pg_catalog.=) 'session_manager.messages'::pg_catalog.regclass) AS messages_distributed \gset
\endif
\if :messages_distributed
-- Citus undistributes a table only without its foreign keys (active_chats' to the reference
-- table "user" would take "user" along); the messages' come back with citus/shard_keys' revert.
ALTER TABLE session_manager.messages DROP CONSTRAINT IF EXISTS messages_session_id_fkey;
ALTER TABLE session_manager.session_message_counts DROP CONSTRAINT IF EXISTS session_message_counts_session_id_fkey;
ALTER TABLE session_manager.active_chats DROP CONSTRAINT IF EXISTS active_chats_user_id_fkey;
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
SELECT pg_catalog.format('SELECT pg_catalog.undistribute_table(%L)', t.rel)
FROM (VALUES (1, 'session_manager.active_chats'), (2, 'session_manager.session_message_counts'),
             (3, 'session_manager.messages')) AS t(n, rel)
WHERE pg_catalog.to_regclass(t.rel) IS NOT NULL
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) t.rel::pg_catalog.regclass)
ORDER BY t.n
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
\endif
