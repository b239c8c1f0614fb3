-- Deploy pg-session-manager:sessions_active_chat_index to pg
-- requires: session_columns
-- At most one active session per user and chat (the contract), and the lookup of
-- get_or_create_session. Neither key nor predicate names "lastActivity", so touches stay HOT.
-- Built CONCURRENTLY so the application keeps writing during the build; hence no BEGIN/COMMIT.
-- Idempotent: an INVALID leftover of an interrupted build is dropped first.
SET lock_timeout = '3s';
SELECT pg_catalog.format('DROP INDEX CONCURRENTLY %s', i.indexrelid::regclass)
FROM pg_catalog.pg_index i
WHERE i.indexrelid = pg_catalog.to_regclass('public.conversation_sessions_one_active_chat') AND NOT i.indisvalid
\gexec
-- On Citus with the sessions already distributed by id (app_tables_check) Citus cannot enforce
-- this index, whose key lacks the distribution column: citus/shard_keys puts
-- session_manager.active_chats in its place, at the end of the same deploy.
-- >>> sessions_distributed: the same block in the scripts that need it (`sqitch bundle` copies only the
-- plan's scripts; tests/test_packaging.py keeps the copies identical). Sets the psql variable
-- sessions_distributed: true when "conversationSessions" is hash-distributed by Citus.
SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL AS citus_installed \gset
\set sessions_distributed false
\if :citus_installed
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
               WHERE p.logicalrelid OPERATOR(pg_catalog.=) 'public."conversationSessions"'::pg_catalog.regclass
                 AND p.partmethod OPERATOR(pg_catalog.=) 'h') AS sessions_distributed \gset
\endif
-- <<< sessions_distributed
\if :sessions_distributed
\echo sessions_active_chat_index: "conversationSessions" is distributed: session_manager.active_chats (citus/shard_keys) takes its place
\else
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS conversation_sessions_one_active_chat
  ON public."conversationSessions" ("userId", "chatId") WHERE "isActive" AND "chatId" IS NOT NULL;
\endif
