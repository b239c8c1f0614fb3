-- Revert pg-session-manager:citus/shard_keys from pg
-- Back to the plain keys, policy and helpers, on the tables citus/distributed_tables' revert left
-- local. What needs the sessions local (the partial unique index on ("userId", "chatId"), the
-- foreign keys from the messages) is restored only when they are: a full revert drops the
-- messages next, and the application's tables stay distributed (README, "Citus").
SET lock_timeout = '3s';
-- Citus explains each conversion in NOTICEs (shards, copies, local tables): warnings only.
SET client_min_messages = warning;
SELECT pg_catalog.to_regclass('session_manager.message_order') IS NOT NULL AS shard_keys_deployed,
       pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL AS citus_installed \gset
\set sessions_local true
\if :citus_installed
SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                   WHERE p.logicalrelid OPERATOR(pg_catalog.=) 'public."conversationSessions"'::pg_catalog.regclass) AS sessions_local \gset
\endif
\if :shard_keys_deployed
BEGIN;
\set lock_tables 'session_manager.messages, session_manager.session_message_counts, public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../../lib/lock_with_retries.sql
DO $$
DECLARE
  f record;
BEGIN
  FOR f IN SELECT definition FROM session_manager.citus_string_bodies LOOP
    EXECUTE f.definition;
  END LOOP;
END
$$;
DROP TABLE session_manager.citus_string_bodies;
DROP FUNCTION session_manager.session_info_of(anyelement, interval);
CREATE FUNCTION session_manager.session_info_of(s public."conversationSessions", idle_timeout interval)
RETURNS session_manager.session_info
LANGUAGE sql STABLE
RETURN ROW(s.id, s."userId", s."chatId", s.agent,
           s."isActive" AND s."lastActivity" >= pg_catalog.now() - session_info_of.idle_timeout,
           s."lastActivity",
           COALESCE((SELECT c.message_count FROM session_manager.session_message_counts c
                     WHERE c.session_id = s.id), 0))::session_manager.session_info;
COMMENT ON FUNCTION session_manager.session_info_of(public."conversationSessions", interval) IS 'A sessions row as session_info, live-ness judged against the given idle timeout.';
REVOKE EXECUTE ON FUNCTION session_manager.session_info_of(public."conversationSessions", interval) FROM PUBLIC;

\if :sessions_local
CREATE UNIQUE INDEX conversation_sessions_one_active_chat
  ON public."conversationSessions" ("userId", "chatId") WHERE "isActive" AND "chatId" IS NOT NULL;
ALTER TABLE session_manager.messages ADD CONSTRAINT messages_session_id_fkey
  FOREIGN KEY (session_id) REFERENCES public."conversationSessions"(id) ON DELETE CASCADE;
ALTER TABLE session_manager.session_message_counts ADD CONSTRAINT session_message_counts_session_id_fkey
  FOREIGN KEY (session_id) REFERENCES public."conversationSessions"(id) ON DELETE CASCADE;
\endif
DROP TABLE IF EXISTS session_manager.active_chats;

DROP POLICY session_manager_app_own_messages ON session_manager.messages;
CREATE POLICY session_manager_app_own_messages ON session_manager.messages
  FOR SELECT TO session_manager_app
  USING (EXISTS (SELECT 1 FROM public."conversationSessions" c
                 WHERE c.id OPERATOR(pg_catalog.=) messages.session_id
                   AND c."userId" OPERATOR(pg_catalog.=) NULLIF(pg_catalog.current_setting('session_manager.user_id', true), '')));
ALTER TABLE session_manager.messages DROP COLUMN user_id;

ALTER TABLE session_manager.messages DROP CONSTRAINT messages_message_id_key,
  ADD CONSTRAINT messages_message_id_key UNIQUE (message_id);
ALTER TABLE session_manager.messages DROP CONSTRAINT messages_pkey,
  ADD CONSTRAINT messages_pkey PRIMARY KEY (id);
ALTER TABLE session_manager.messages ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE session_manager.message_order;
ALTER TABLE session_manager.messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('session_manager.messages', 'id'),
                         COALESCE(pg_catalog.max(m.id), 0) OPERATOR(pg_catalog.+) 1, false)
FROM session_manager.messages m;
COMMIT;
\endif
