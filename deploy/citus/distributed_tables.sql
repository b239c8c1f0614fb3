-- Deploy pg-session-manager:citus/distributed_tables to pg
-- requires: citus/reference_tables
-- The sessions and every per-session table, hash-distributed and co-located, so that one
-- session's row, messages and counter are on one shard of one worker:
-- * public."conversationSessions" by id: its primary key, which the contract keeps and Citus
--   enforces only when it contains the distribution column; every hot-path call names it.
-- * session_manager.messages and session_message_counts by session_id, co-located with the
--   sessions (their foreign keys to the sessions, added back below, need it).
-- * session_manager.active_chats by user_id (its primary key is (user_id, chat_id)).
-- create_distributed_table_concurrently moves the rows with logical replication while the
-- application keeps writing (measured: 500 sessions in about 4 s, most of it the replication
-- set-up); it cannot run in a transaction block, hence this change has none. Idempotent: a table
-- already distributed is left as it is, a missing foreign key is added, so after an interruption
-- `sqitch deploy` simply goes on.
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
SELECT pg_catalog.format('SELECT pg_catalog.create_distributed_table_concurrently(%L, %L, colocate_with := %L)',
                         t.rel, t.col, t.colocate)
FROM (VALUES (1, 'public."conversationSessions"', 'id', 'default'),
             (2, 'session_manager.messages', 'session_id', 'public."conversationSessions"'),
             (3, 'session_manager.session_message_counts', 'session_id', 'public."conversationSessions"'),
             (4, 'session_manager.active_chats', 'user_id', 'default')) AS t(n, rel, col, colocate)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                  WHERE p.logicalrelid OPERATOR(pg_catalog.=) t.rel::pg_catalog.regclass
                    AND p.partmethod OPERATOR(pg_catalog.=) 'h')
ORDER BY t.n
\gexec
-- NOT VALID, then VALIDATE: the validation takes SHARE UPDATE EXCLUSIVE, so the application
-- keeps writing the sessions while the messages are checked.
SELECT pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (session_id) REFERENCES public."conversationSessions"(id) ON DELETE CASCADE NOT VALID',
                         t.rel, t.con)
FROM (VALUES ('session_manager.messages', 'messages_session_id_fkey'),
             ('session_manager.session_message_counts', 'session_message_counts_session_id_fkey')) AS t(rel, con)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                  WHERE c.conrelid OPERATOR(pg_catalog.=) t.rel::pg_catalog.regclass AND c.conname OPERATOR(pg_catalog.=) t.con)
\gexec
SELECT pg_catalog.format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.conrelid::pg_catalog.regclass, c.conname)
FROM pg_catalog.pg_constraint c
WHERE c.conname IN ('messages_session_id_fkey', 'session_message_counts_session_id_fkey') AND NOT c.convalidated
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
\else
\echo citus/distributed_tables: not distributing (see citus/preflight)
\endif
