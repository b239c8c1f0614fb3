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
\ir ../../lib/citus_views_save.sql
SELECT pg_catalog.format('SELECT pg_catalog.undistribute_table(%L)', t.rel)
FROM (VALUES (1, 'session_manager.active_chats'), (2, 'session_manager.session_message_counts'),
             (3, 'session_manager.messages')) AS t(n, rel)
WHERE pg_catalog.to_regclass(t.rel) IS NOT NULL
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) t.rel::pg_catalog.regclass)
ORDER BY t.n
\gexec
\ir ../../lib/citus_views_restore.sql
\endif
