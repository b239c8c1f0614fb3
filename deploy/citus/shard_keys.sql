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
--   Citus turns it into a shard, and cannot be called with a shard's rows on a worker: the helper
--   that took a sessions row (session_info_of) takes anyelement.
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

-- The squawk-ignore lines below: these statements change the package's own messages and the
-- index it added, under the ACCESS EXCLUSIVE lock taken above 100 ms of waiting at a time; the
-- keys' rebuild reads the messages once (their size is the lock's length on an upgrade).
-- squawk-ignore ban-alter-identity
ALTER TABLE session_manager.messages ALTER COLUMN id DROP IDENTITY IF EXISTS;
CREATE SEQUENCE session_manager.message_order AS bigint OWNED BY session_manager.messages.id;
SELECT pg_catalog.setval('session_manager.message_order', COALESCE(pg_catalog.max(m.id), 0) OPERATOR(pg_catalog.+) 1, false)
FROM session_manager.messages m;
ALTER TABLE session_manager.messages ALTER COLUMN id SET DEFAULT pg_catalog.nextval('session_manager.message_order'::pg_catalog.regclass);
-- squawk-ignore ban-drop-constraint
ALTER TABLE session_manager.messages DROP CONSTRAINT messages_pkey,
  -- squawk-ignore adding-serial-primary-key-field,constraint-missing-not-valid
  ADD CONSTRAINT messages_pkey PRIMARY KEY (session_id, id);
-- squawk-ignore ban-drop-constraint
ALTER TABLE session_manager.messages DROP CONSTRAINT messages_message_id_key,
  -- squawk-ignore constraint-missing-not-valid,disallowed-unique-constraint
  ADD CONSTRAINT messages_message_id_key UNIQUE (session_id, message_id);
-- squawk-ignore ban-drop-constraint
ALTER TABLE session_manager.messages DROP CONSTRAINT messages_session_id_fkey;
-- squawk-ignore ban-drop-constraint
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
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX public.conversation_sessions_one_active_chat;

-- A SQL function with a standard body (BEGIN ATOMIC, RETURN) that names a table depends on it
-- and is dropped with it when Citus turns the table into a shard (measured: add_message_count
-- vanished, and every append failed), and Citus cannot plan a SQL function's statement with
-- parameters over a distributed table ("could not create distributed plan ... parameters in SQL
-- functions"). Those functions become PL/pgSQL with the same statements; the originals are kept
-- for the revert.
CREATE TABLE session_manager.citus_string_bodies (
  function_name regprocedure PRIMARY KEY,
  definition text NOT NULL
);
COMMENT ON TABLE session_manager.citus_string_bodies IS 'On Citus: the standard-body definitions citus/shard_keys rewrote as string bodies, which its revert restores.';
INSERT INTO session_manager.citus_string_bodies
SELECT DISTINCT p.oid::regprocedure, pg_catalog.pg_get_functiondef(p.oid)
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_depend d
  ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass
WHERE p.pronamespace = 'session_manager'::regnamespace AND p.prosqlbody IS NOT NULL
  AND p.proname <> 'session_info_of'  -- replaced below
  AND d.refobjid IN ('public."conversationSessions"'::regclass, 'public."user"'::regclass, 'session_manager.messages'::regclass,
                     'session_manager.session_message_counts'::regclass, 'session_manager.settings'::regclass);
DO $$
DECLARE
  f record;
  body text;
BEGIN
  FOR f IN SELECT * FROM session_manager.citus_string_bodies LOOP
    body := pg_catalog.regexp_replace(f.definition, '\n LANGUAGE sql\n', E'\n LANGUAGE plpgsql\n');
    IF f.definition ~ '\nBEGIN ATOMIC\n' AND f.definition ~ '\n RETURNS void\n' THEN
      body := pg_catalog.regexp_replace(pg_catalog.regexp_replace(body, '\nBEGIN ATOMIC\n', E'\nAS $citus_body$\nBEGIN\n'),
                                        '\nEND\s*$', E'\nEND\n$citus_body$');
    ELSIF f.definition ~ '\nRETURN ' THEN
      body := pg_catalog.regexp_replace(body, '\nRETURN (.*)$', E'\nAS $citus_body$ BEGIN RETURN \\1; END $citus_body$');
    ELSE
      RAISE EXCEPTION 'citus/shard_keys: cannot rewrite the body of %', f.function_name;
    END IF;
    EXECUTE body;
  END LOOP;
END
$$;
-- squawk-ignore ban-drop-function
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
REVOKE EXECUTE ON FUNCTION session_manager.session_info_of(anyelement, interval) FROM PUBLIC;
COMMIT;
\else
\echo citus/shard_keys: not distributing (see citus/preflight)
\endif
