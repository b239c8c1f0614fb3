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
