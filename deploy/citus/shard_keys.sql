-- Deploy pg-session-manager:citus/shard_keys to pg
-- requires: citus/preflight
-- Makes the package's tables and helpers distributable, while they are still local:
-- * Citus enforces a unique key only when it contains the distribution column. The messages and
--   their counters are distributed by session_id (co-located with their session), so the
--   messages' keys become (session_id, id) and (session_id, message_id): a message_id is unique
--   within its session (README, "Citus": the one contract deviation).
-- * The messages' order keeps its bigint, from a sequence instead of an identity column (Citus
--   refuses later changes of a converted table with an identity column).
-- * The partial unique index on ("userId", "chatId") cannot exist on sessions distributed by id.
--   Its replacement: session_manager.active_chats, one row per (user, chat) naming the chat's
--   current session, distributed by user_id with the primary key (user_id, chat_id) that Citus
--   does enforce; get_or_create_session locks that row (functions in citus/functions).
-- * Policies on distributed tables may not contain subqueries: the messages carry their
--   session's user (user_id), which the messages' policy compares.
-- * A function whose signature names a table's row type is dropped with the original table when
--   Citus turns it into a shard, and cannot be called with a shard's rows on a worker: the two
--   helpers that took rows take anyelement.
-- The foreign keys of the messages and counters to the sessions are dropped here and added back
-- between the distributed tables (citus/distributed_tables).
SET lock_timeout = '3s';
-- Citus explains each conversion in NOTICEs (shards, copies, local tables): warnings only.
SET client_min_messages = warning;
\ir ../../lib/citus_mode.sql
\if :citus_on
BEGIN;
\set lock_tables 'session_manager.messages, session_manager.session_message_counts, public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../../lib/lock_with_retries.sql

ALTER TABLE session_manager.messages ALTER COLUMN id DROP IDENTITY IF EXISTS;
CREATE SEQUENCE session_manager.message_order AS bigint OWNED BY session_manager.messages.id;
SELECT pg_catalog.setval('session_manager.message_order', COALESCE(pg_catalog.max(m.id), 0) OPERATOR(pg_catalog.+) 1, false)
FROM session_manager.messages m;
ALTER TABLE session_manager.messages ALTER COLUMN id SET DEFAULT pg_catalog.nextval('session_manager.message_order'::pg_catalog.regclass);
ALTER TABLE session_manager.messages DROP CONSTRAINT messages_pkey,
  ADD CONSTRAINT messages_pkey PRIMARY KEY (session_id, id);
ALTER TABLE session_manager.messages DROP CONSTRAINT messages_message_id_key,
  ADD CONSTRAINT messages_message_id_key UNIQUE (session_id, message_id);
ALTER TABLE session_manager.messages DROP CONSTRAINT messages_session_id_fkey;
ALTER TABLE session_manager.session_message_counts DROP CONSTRAINT session_message_counts_session_id_fkey;

ALTER TABLE session_manager.messages ADD COLUMN user_id text;
COMMENT ON COLUMN session_manager.messages.user_id IS 'The session''s user, for the Row Level Security policy (Citus: policies on distributed tables may not contain subqueries); set by append_message.';
UPDATE session_manager.messages m SET user_id = c."userId"
FROM public."conversationSessions" c WHERE c.id OPERATOR(pg_catalog.=) m.session_id;
DROP POLICY session_manager_app_own_messages ON session_manager.messages;
CREATE POLICY session_manager_app_own_messages ON session_manager.messages
  FOR SELECT TO session_manager_app
  USING (user_id OPERATOR(pg_catalog.=) NULLIF(pg_catalog.current_setting('session_manager.user_id', true), ''));

CREATE TABLE session_manager.active_chats (
  user_id text NOT NULL REFERENCES public."user"(id) ON DELETE CASCADE,
  chat_id text NOT NULL,
  session_id text NOT NULL,
  CONSTRAINT active_chats_pkey PRIMARY KEY (user_id, chat_id)
);
COMMENT ON TABLE session_manager.active_chats IS 'On Citus: the current session of each (user, chat); its primary key serializes get_or_create_session for one chat, as the partial unique index on ("userId", "chatId") does on one node.';
-- The index guaranteed at most one active session per chat: each becomes its chat's row.
INSERT INTO session_manager.active_chats (user_id, chat_id, session_id)
SELECT c."userId", c."chatId", c.id FROM public."conversationSessions" c
WHERE c."isActive" AND c."chatId" IS NOT NULL;
DROP INDEX public.conversation_sessions_one_active_chat;

DROP FUNCTION session_manager.session_info_of(public."conversationSessions", interval);
CREATE FUNCTION session_manager.session_info_of(s anyelement, idle_timeout interval)
RETURNS session_manager.session_info
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN ROW(s.id, s."userId", s."chatId", s.agent,
             s."isActive" AND s."lastActivity" >= pg_catalog.now() - session_info_of.idle_timeout,
             s."lastActivity",
             COALESCE((SELECT c.message_count FROM session_manager.session_message_counts c
                       WHERE c.session_id = s.id), 0))::session_manager.session_info;
END
$$;
COMMENT ON FUNCTION session_manager.session_info_of(anyelement, interval) IS 'A sessions row (of the table or, on a Citus worker, of its shard) as session_info, live-ness judged against the given idle timeout.';
DROP FUNCTION session_manager.stored_message_or_conflict(session_manager.messages, text, text, text);
CREATE FUNCTION session_manager.stored_message_or_conflict(stored anyelement, session_id text, role text, content text)
RETURNS session_manager.message
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF (stored.session_id, stored.role, stored.content)
     IS DISTINCT FROM (stored_message_or_conflict.session_id, stored_message_or_conflict.role, stored_message_or_conflict.content) THEN
    PERFORM session_manager.raise_invalid('23505',
      format('message_id %s is already stored with a different session, role or content', stored.message_id),
      'Use a new message_id for a new message; reuse one only to retry the very same message.');
  END IF;
  RETURN ROW(stored.message_id, stored.session_id, stored.role, stored.content, stored.created_at)::session_manager.message;
END
$$;
COMMENT ON FUNCTION session_manager.stored_message_or_conflict(anyelement, text, text, text) IS 'Returns the stored message (a messages row, of the table or of its shard) when it matches the retried session, role and content; raises 23505 otherwise.';
REVOKE EXECUTE ON FUNCTION session_manager.session_info_of(anyelement, interval),
  session_manager.stored_message_or_conflict(anyelement, text, text, text) FROM PUBLIC;
COMMIT;
\else
\echo citus/shard_keys: not distributing (see citus/preflight)
\endif
