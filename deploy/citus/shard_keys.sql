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
-- >>> citus_mode: the same block in each citus/* script that needs it (`sqitch bundle` copies only the
-- plan's scripts; tests/test_packaging.py keeps the copies identical).
-- sets the psql variable citus_on to true when this
-- database is a Citus coordinator the package distributes itself on, false otherwise (the
-- package then stays as on plain PostgreSQL and every citus/* change does nothing).
-- True when: the sqitch variable citus is not off (sqitch deploy --set citus=off), the citus
-- extension is in this database, this node is the coordinator (group 0) and at least one active
-- primary worker is registered (../shared/CONTRACT.md, "Citus").
\if :{?citus}
\else
\set citus on
\endif
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') AS citus_installed \gset
\if :citus_installed
SELECT :'citus' OPERATOR(pg_catalog.<>) 'off'
       AND pg_catalog.citus_is_coordinator()
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node n
                   WHERE n.groupid OPERATOR(pg_catalog.<>) 0 AND n.noderole OPERATOR(pg_catalog.=) 'primary'
                     AND n.isactive AND n.shouldhaveshards) AS citus_on \gset
\else
\set citus_on false
\endif
-- <<< citus_mode
\if :citus_on
BEGIN;
-- With the sessions distributed before the deploy (app_tables_check), the messages' user_id is read
-- from their shards in parallel, and Citus then refuses this transaction's DDL on "user" (active_chats'
-- foreign key) unless the shards are reached over one connection per worker.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';
\set lock_tables 'session_manager.messages, session_manager.session_message_counts, public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
-- >>> lock_with_retries: the same block in every script that locks "conversationSessions" (a script
-- must carry it: `sqitch bundle` copies only the plan's scripts; tests/test_packaging.py keeps the copies
-- identical). Takes the lock in lock_mode on lock_tables (set just above), holding it to COMMIT:
-- each attempt first takes SHARE UPDATE EXCLUSIVE (autovacuum gives way to it after deadlock_timeout;
-- the application's reads and writes do not conflict with it), then the lock itself waiting at most
-- lock_attempt_timeout (100 ms, the longest the application is queued behind us); on a timeout it lets
-- go of both for a random pause (up to 50 ms, doubling to 1 s: a fixed schedule fell into step with
-- transactions that reopened during each pause, and one script missed every gap for 120 s in the
-- open-transactions proof) and tries again, for up to lock_retry_seconds (180),
-- then fails the transaction whole with 55P03 naming the holders. One 3 s wait instead made a writer
-- with lock_timeout 1 s time out (million-row proof). The rest of the transaction keeps lock_timeout =
-- lock_attempt_timeout. A DBA may set both with sqitch deploy/revert --set NAME=VALUE.
\if :{?lock_attempt_timeout}
\else
\set lock_attempt_timeout 100ms
\endif
\if :{?lock_retry_seconds}
\else
\set lock_retry_seconds 180
\endif
-- The retries may outlast a statement_timeout set on the role or the database; lock_retry_seconds bounds them.
SET LOCAL statement_timeout = 0;
SET LOCAL session_manager.lock_tables = :'lock_tables';
SET LOCAL session_manager.lock_mode = :'lock_mode';
SET LOCAL session_manager.lock_attempt_timeout = :'lock_attempt_timeout';
SET LOCAL session_manager.lock_retry_seconds = :'lock_retry_seconds';
DO $lock$
DECLARE
  tables text := current_setting('session_manager.lock_tables');
  lock_mode text := upper(current_setting('session_manager.lock_mode'));
  attempt_timeout text := current_setting('session_manager.lock_attempt_timeout');
  retry_seconds float8 := current_setting('session_manager.lock_retry_seconds')::float8;
  vacuum_wait text := current_setting('lock_timeout');
  previous_path text := current_setting('search_path');
  started timestamptz := clock_timestamp();
  attempts integer := 0;
  pause float8 := 0.05;
  sleep_s float8;
  holders text;
BEGIN
  -- Run as the deployer: nothing in its schemas may stand in for what this block calls.
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF lock_mode NOT IN ('SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE') THEN
    RAISE EXCEPTION 'lock_mode % is not a mode that blocks autovacuum and writers', lock_mode
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  LOOP
    attempts := attempts + 1;
    BEGIN
      PERFORM set_config('lock_timeout', vacuum_wait, true);
      EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', tables);
      PERFORM set_config('lock_timeout', attempt_timeout, true);
      EXECUTE format('LOCK TABLE %s IN %s MODE', tables, lock_mode);
      EXIT;
    EXCEPTION WHEN lock_not_available THEN
      -- The attempt is rolled back: nothing of ours is held while we look and pause.
      SELECT string_agg(DISTINCT format('pid %s (%s, %s%s)', a.pid, a.backend_type, l.mode,
                                        CASE WHEN a.query <> '' THEN ': ' || left(a.query, 80) END), '; ')
        INTO holders
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
        AND l.relation IN (SELECT to_regclass(btrim(t))::oid FROM regexp_split_to_table(tables, ',') t);
      IF extract(epoch FROM clock_timestamp() - started) + pause > retry_seconds THEN
        RAISE EXCEPTION 'could not lock % in % mode within % s: % attempts of % each', tables, lock_mode,
                        retry_seconds, attempts, attempt_timeout
          USING ERRCODE = 'lock_not_available',
                DETAIL = 'Held by: ' || coalesce(holders, 'nobody any more (the last holder just ended)'),
                HINT = 'Nothing of this transaction was applied (a change that commits in steps keeps the steps '
                       || 'before it and goes on from there), and no statement of the application waited longer '
                       || 'than ' || attempt_timeout || ' behind it. Run sqitch again when the table is quieter, '
                       || 'or allow longer with --set lock_retry_seconds=N.';
      END IF;
      sleep_s := round((random() * pause)::numeric, 3);
      RAISE NOTICE 'waiting to lock % (attempt %, held by %): next attempt in % s', tables, attempts,
                   coalesce(holders, 'nobody any more'), sleep_s;
      PERFORM pg_sleep(sleep_s);
      pause := least(pause * 2, 1.0);
    END;
  END LOOP;
  PERFORM set_config('search_path', previous_path, true);
END
$lock$;
-- <<< lock_with_retries

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
DROP INDEX IF EXISTS public.conversation_sessions_one_active_chat;

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
