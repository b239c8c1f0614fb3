-- Verify pg-session-manager:citus/shard_keys on pg
\ir ../../lib/citus_mode.sql
\if :citus_on
SELECT session_id, chat_id, user_id FROM session_manager.active_chats WHERE FALSE;
SELECT user_id FROM session_manager.messages WHERE FALSE;
SELECT 1 / COUNT(*) FROM pg_catalog.pg_constraint
WHERE conname = 'messages_pkey' AND conrelid = 'session_manager.messages'::regclass
  AND pg_catalog.pg_get_constraintdef(oid) = 'PRIMARY KEY (session_id, id)';
SELECT 'session_manager.session_info_of(anyelement, interval)'::regprocedure;
\endif
