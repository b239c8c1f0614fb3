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
\ir ../../lib/citus_mode.sql
\if :citus_on
\ir ../../lib/citus_views_save.sql
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
\ir ../../lib/citus_views_restore.sql
\else
\echo citus/distributed_tables: not distributing (see citus/preflight)
\endif
