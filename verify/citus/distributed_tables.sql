-- Verify pg-session-manager:citus/distributed_tables on pg
\ir ../../lib/citus_mode.sql
\if :citus_on
-- The four tables hash-distributed on their columns, in one co-location group with the sessions
-- except active_chats (which may share it: same column type and shard count).
SELECT 1 / (COUNT(*) = 4)::int FROM pg_catalog.pg_dist_partition p
WHERE p.partmethod = 'h' AND (p.logicalrelid, pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)) IN (
  ('public."conversationSessions"'::regclass, 'id'), ('session_manager.messages'::regclass, 'session_id'),
  ('session_manager.session_message_counts'::regclass, 'session_id'), ('session_manager.active_chats'::regclass, 'user_id'));
SELECT 1 / (COUNT(DISTINCT colocationid) = 1)::int FROM pg_catalog.pg_dist_partition
WHERE logicalrelid IN ('public."conversationSessions"'::regclass, 'session_manager.messages'::regclass,
                       'session_manager.session_message_counts'::regclass);
SELECT 1 / (COUNT(*) = 2)::int FROM pg_catalog.pg_constraint
WHERE conname IN ('messages_session_id_fkey', 'session_message_counts_session_id_fkey') AND convalidated;
\endif
