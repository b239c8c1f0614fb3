-- Verify pg-session-manager:sessions_active_chat_index on pg
-- Fails when the index is missing (NULL regclass) or was left INVALID by an interrupted build.
-- On Citus (citus/shard_keys) the index is replaced by session_manager.active_chats, whose primary
-- key does its work on the distributed sessions.
SELECT 1/COUNT(*) FROM (
  SELECT 1 FROM pg_catalog.pg_index
  WHERE indexrelid = pg_catalog.to_regclass('public.conversation_sessions_one_active_chat') AND indisvalid AND indisready
  UNION ALL
  SELECT 1 WHERE pg_catalog.to_regclass('session_manager.active_chats') IS NOT NULL) AS found;
