-- Verify pg-session-manager:sessions_active_chat_index on pg
-- Fails when the index is missing (NULL regclass) or was left INVALID by an interrupted build.
-- On Citus (citus/shard_keys) the index is replaced by session_manager.active_chats, whose primary
-- key does its work on the distributed sessions; with the sessions distributed before the deploy
-- the index is never built (its deploy script says why).
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
SELECT 1/COUNT(*) FROM (
  SELECT 1 FROM pg_catalog.pg_index
  WHERE indexrelid = pg_catalog.to_regclass('public.conversation_sessions_one_active_chat') AND indisvalid AND indisready
  UNION ALL
  SELECT 1 WHERE pg_catalog.to_regclass('session_manager.active_chats') IS NOT NULL
  UNION ALL
  SELECT 1 WHERE :'sessions_distributed'::boolean) AS found;
