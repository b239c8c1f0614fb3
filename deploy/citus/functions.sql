-- Deploy pg-session-manager:citus/functions to pg
-- requires: citus/distributed_tables functions/get_or_create_session functions/append_message functions/touch_sessions functions/cleanup_old_sessions functions/purge_inactive_sessions functions/get_session_info functions/list_user_sessions
-- The functions on distributed tables. Each keeps its contract; what Citus needs of them:
-- * One worker per call, by routing: every statement of the session functions names the session's
--   id (the distribution column), so Citus sends it to the one worker holding that shard
--   (tests/test_citus.py proves it for each function with citus.log_remote_commands). Not by
--   delegation: create_distributed_function(..., 'session_id', colocate_with := ...) sends a lone
--   `SELECT f(...)` whole to the worker, one round trip instead of one per statement, but with
--   Citus 13.2.2 a delegated call with a NULL session_id crashes the coordinator (measured:
--   `SELECT session_manager.touch_session(NULL)` and `get_context(NULL, 5)` ended every connection
--   and put the coordinator into recovery; the client's own test of 22004 for a NULL id found it).
--   A NULL id is a caller's mistake the contract answers with 22004, never a restart of the
--   cluster, so the functions are not delegated.
-- * No query that calls a function reading a distributed table per row (Citus: "cannot execute
--   a distributed query from a query on a shard"): get_session_info and list_user_sessions join
--   the co-located counters instead.
-- * No multi-shard FOR UPDATE / SKIP LOCKED: touch_sessions locks its sessions one by one in id
--   order; the cleanup batch is a multi-shard UPDATE of the ids a LIMITed subquery chose, each
--   re-checked under its row lock (a session touched meanwhile no longer matches and is left
--   alone; one deactivated by a concurrent run no longer matches "isActive" and is not counted).
-- * get_or_create_session serializes one chat on its row of session_manager.active_chats (the
--   primary key (user_id, chat_id) Citus enforces), instead of the partial unique index.
-- * A message's order: the sequence gives each node its own range (Citus: a worker's values
--   start at its group id << 48), so a message appended through the coordinator after some
--   appended on a worker would sort first; the inserts take past the session's newest id.
-- * A message_id is unique within its session (the key includes the distribution column), and a
--   retry's lookup names the session: one shard (README, "Citus": a message_id reused in another
--   session is stored there, not refused).
-- The revert puts the plain bodies back (the deploy scripts of those functions).
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
-- What the revert puts back: each function's definition as it was before this change (whatever
-- change last made it), recreated with CREATE OR REPLACE (its grants and comment stay).
CREATE TABLE session_manager.citus_replaced_functions (
  function_name regprocedure PRIMARY KEY,
  definition text NOT NULL
);
COMMENT ON TABLE session_manager.citus_replaced_functions IS 'On Citus: the definitions citus/functions replaced, which its revert restores.';
INSERT INTO session_manager.citus_replaced_functions
SELECT f::regprocedure, pg_catalog.pg_get_functiondef(f::regprocedure)
FROM pg_catalog.unnest(ARRAY['session_manager.get_session_info(text)', 'session_manager.list_user_sessions(text,boolean)',
                             'session_manager.get_or_create_session(text,text,text,text)',
                             'session_manager.append_message(text,text,text,uuid,text,jsonb)', 'session_manager.append_messages(text,jsonb)',
                             'session_manager.stored_retry(uuid,text,text,text,text,text,jsonb)', 'session_manager.touch_sessions(text[])',
                             'session_manager.deactivate_idle_batch(interval,integer,text)',
                             'session_manager.purge_inactive_batch(interval,integer)',
                             'session_manager.add_message_count(text,integer)']) AS f;
CREATE OR REPLACE FUNCTION session_manager.get_session_info(session_id text)
RETURNS SETOF session_manager.session_info
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  idle interval;
BEGIN
  PERFORM session_manager.check_id(get_session_info.session_id, 'session_id');
  SELECT s.idle_timeout INTO idle FROM session_manager.settings s;
  RETURN QUERY
    SELECT c.id, c."userId", c."chatId", c.agent, c."isActive" AND c."lastActivity" >= now() - idle,
           c."lastActivity", COALESCE(k.message_count, 0)
    FROM public."conversationSessions" c
    LEFT JOIN session_manager.session_message_counts k ON k.session_id = c.id
    WHERE c.id = get_session_info.session_id AND (acting_user IS NULL OR c."userId" = acting_user);
END
$$;

CREATE OR REPLACE FUNCTION session_manager.list_user_sessions(user_id text, include_inactive boolean DEFAULT false)
RETURNS SETOF session_manager.session_info
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  idle interval;
BEGIN
  PERFORM session_manager.check_id(list_user_sessions.user_id, 'user_id');
  IF list_user_sessions.include_inactive IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'include_inactive must not be NULL', 'Pass true or false.');
  END IF;
  IF acting_user IS NOT NULL AND acting_user <> list_user_sessions.user_id THEN
    RETURN;
  END IF;
  SELECT s.idle_timeout INTO idle FROM session_manager.settings s;
  -- A user's sessions are spread over the shards (distributed by id): this one goes to every
  -- shard (docs/scaling.md, "limits").
  RETURN QUERY
    SELECT c.id, c."userId", c."chatId", c.agent, c."isActive" AND c."lastActivity" >= now() - idle,
           c."lastActivity", COALESCE(k.message_count, 0)
    FROM public."conversationSessions" c
    LEFT JOIN session_manager.session_message_counts k ON k.session_id = c.id
    WHERE c."userId" = list_user_sessions.user_id
      AND (list_user_sessions.include_inactive OR (c."isActive" AND c."lastActivity" >= now() - idle))
    ORDER BY c."lastActivity" DESC, c.id;
END
$$;

CREATE OR REPLACE FUNCTION session_manager.get_or_create_session(user_id text, agent text, chat_id text DEFAULT NULL,
                                                                 title text DEFAULT NULL)
RETURNS session_manager.session_info
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  cfg session_manager.settings;
  found_row public."conversationSessions";
  current_id text;
  new_id text;
  attempt integer;
BEGIN
  PERFORM session_manager.check_id(get_or_create_session.user_id, 'user_id');
  IF get_or_create_session.agent IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'agent must not be NULL', 'Pass one of the agents in session_manager.settings.agents.');
  END IF;
  IF get_or_create_session.chat_id = '' THEN
    PERFORM session_manager.raise_invalid('22023', 'chat_id must not be empty', 'Pass the chat''s id, or NULL for a session without a chat.');
  ELSIF octet_length(get_or_create_session.chat_id) > 1024 THEN
    PERFORM session_manager.raise_invalid('22001',
      format('chat_id has %s bytes, more than 1024', octet_length(get_or_create_session.chat_id)),
      'Pass the chat''s id (a WhatsApp JID has about 30 characters).');
  END IF;
  SELECT * INTO cfg FROM session_manager.settings;
  IF NOT get_or_create_session.agent = ANY (cfg.agents) THEN
    PERFORM session_manager.raise_invalid('22023', format('agent %L is not allowed', get_or_create_session.agent),
      format('Use one of %s, or add it to session_manager.settings.agents.', array_to_string(cfg.agents, ', ')));
  END IF;
  IF (acting_user IS NOT NULL AND acting_user <> get_or_create_session.user_id)
     OR NOT EXISTS (SELECT 1 FROM public."user" u WHERE u.id = get_or_create_session.user_id) THEN
    PERFORM session_manager.raise_invalid('P0002', format('user %L does not exist', get_or_create_session.user_id),
      'Create the user in the application first, or check the user_id.');
  END IF;
  IF get_or_create_session.chat_id IS NOT NULL THEN
    -- Concurrent callers for one chat meet at its active_chats row: the first inserts it (or
    -- locks it), the others wait on it and find the first one's session on their next pass.
    FOR attempt IN 1..3 LOOP
      SELECT a.session_id INTO current_id FROM session_manager.active_chats a
      WHERE a.user_id = get_or_create_session.user_id AND a.chat_id = get_or_create_session.chat_id
      FOR UPDATE;
      IF FOUND THEN
        SELECT * INTO found_row FROM public."conversationSessions" c
        WHERE c.id = current_id AND c."isActive"
        FOR NO KEY UPDATE;
        IF FOUND THEN
          IF found_row."lastActivity" >= now() - cfg.idle_timeout THEN
            UPDATE public."conversationSessions" c SET "lastActivity" = now()
            WHERE c.id = found_row.id AND c."lastActivity" < now();
            IF FOUND THEN
              found_row."lastActivity" := now();
            END IF;
            RETURN session_manager.session_info_of(found_row, cfg.idle_timeout);
          END IF;
          -- Active but idle past the timeout: it is not live, so close it and start anew.
          UPDATE public."conversationSessions" c SET "isActive" = false WHERE c.id = found_row.id;
        END IF;
        new_id := gen_random_uuid()::text;
        INSERT INTO public."conversationSessions" AS c (id, "userId", agent, title, "chatId")
        VALUES (new_id, get_or_create_session.user_id, get_or_create_session.agent,
                get_or_create_session.title, get_or_create_session.chat_id)
        RETURNING * INTO found_row;
        UPDATE session_manager.active_chats a SET session_id = new_id
        WHERE a.user_id = get_or_create_session.user_id AND a.chat_id = get_or_create_session.chat_id;
        RETURN session_manager.session_info_of(found_row, cfg.idle_timeout);
      END IF;
      new_id := gen_random_uuid()::text;
      INSERT INTO session_manager.active_chats AS a (user_id, chat_id, session_id)
      VALUES (get_or_create_session.user_id, get_or_create_session.chat_id, new_id)
      ON CONFLICT ON CONSTRAINT active_chats_pkey DO NOTHING;
      IF FOUND THEN
        INSERT INTO public."conversationSessions" AS c (id, "userId", agent, title, "chatId")
        VALUES (new_id, get_or_create_session.user_id, get_or_create_session.agent,
                get_or_create_session.title, get_or_create_session.chat_id)
        RETURNING * INTO found_row;
        RETURN session_manager.session_info_of(found_row, cfg.idle_timeout);
      END IF;
    END LOOP;
    PERFORM session_manager.raise_invalid('40001', 'could not settle the session of this chat under concurrent changes',
      'Retry the call.');
  END IF;
  INSERT INTO public."conversationSessions" AS c (id, "userId", agent, title)
  VALUES (gen_random_uuid()::text, get_or_create_session.user_id, get_or_create_session.agent, get_or_create_session.title)
  RETURNING * INTO found_row;
  RETURN session_manager.session_info_of(found_row, cfg.idle_timeout);
END
$$;
-- The messages' inserts (append_message, append_messages) and the retry's lookup (stored_retry):
-- the current definitions, changed where Citus needs it, checked so that a later rework that
-- moves these statements fails this deploy instead of passing unchanged.
CREATE FUNCTION session_manager.next_message_id(session_id text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  newest bigint;
BEGIN
  -- Past the session's newest id: the sequence gives each node its own range (a worker's values
  -- start at its group id << 48, the coordinator's at 1), and a session's messages come through
  -- either. The caller holds the session's row lock, which orders concurrent appends.
  SELECT max(m.id) INTO newest FROM session_manager.messages m WHERE m.session_id = next_message_id.session_id;
  RETURN GREATEST(nextval('session_manager.message_order'), COALESCE(newest, 0) + 1);
END
$$;
COMMENT ON FUNCTION session_manager.next_message_id(text) IS 'On Citus: the order key of a session''s next message, past its newest whichever node gave that one.';
CREATE FUNCTION session_manager.session_user_id(session_id text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS 'SELECT c."userId" FROM public."conversationSessions" c WHERE c.id = $1';
COMMENT ON FUNCTION session_manager.session_user_id(text) IS 'On Citus: the user of a session, stored with each message for the messages'' Row Level Security policy.';
REVOKE EXECUTE ON FUNCTION session_manager.next_message_id(text), session_manager.session_user_id(text) FROM PUBLIC;
DO $$
DECLARE
  f record;
  changed text;
BEGIN
  FOR f IN SELECT * FROM (VALUES
      ('session_manager.append_message(text,text,text,uuid,text,jsonb)', 'append_message'),
      ('session_manager.append_messages(text,jsonb)', 'append_messages')) AS v(sig, name) LOOP
    changed := pg_catalog.pg_get_functiondef(f.sig::regprocedure);
    IF pg_catalog.strpos(changed, 'INSERT INTO session_manager.messages AS m (message_id, session_id,') = 0
       OR pg_catalog.strpos(changed, 'VALUES (COALESCE(') = 0 THEN
      RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'citus/functions: ' || f.sig || ' no longer has the INSERT it adapts',
        HINT = 'Adapt deploy/citus/functions.sql to the new definition.';
    END IF;
    changed := pg_catalog.replace(changed, 'INSERT INTO session_manager.messages AS m (message_id, session_id,',
                                  'INSERT INTO session_manager.messages AS m (id, user_id, message_id, session_id,');
    changed := pg_catalog.replace(changed, 'VALUES (COALESCE(',
      pg_catalog.format('VALUES (session_manager.next_message_id(%1$s.session_id), session_manager.session_user_id(%1$s.session_id), COALESCE(', f.name));
    EXECUTE changed;
  END LOOP;
  changed := pg_catalog.pg_get_functiondef('session_manager.stored_retry(uuid,text,text,text,text,text,jsonb)'::regprocedure);
  IF pg_catalog.strpos(changed, 'WHERE m.message_id = stored_retry.message_id') = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'citus/functions: stored_retry no longer looks a message up as it adapts',
      HINT = 'Adapt deploy/citus/functions.sql to the new definition.';
  END IF;
  -- A message_id is unique within its session on Citus: the lookup names the session, one shard.
  EXECUTE pg_catalog.replace(changed, 'WHERE m.message_id = stored_retry.message_id',
                             'WHERE m.session_id = stored_retry.session_id AND m.message_id = stored_retry.message_id');
END
$$;

-- Citus plans no INSERT ... SELECT of a function's parameters into a distributed table ("could
-- not determine data type of parameter $1"): the counter is inserted from VALUES.
CREATE OR REPLACE FUNCTION session_manager.add_message_count(session_id text, delta integer)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF add_message_count.delta < 0 THEN
    UPDATE session_manager.session_message_counts k SET message_count = k.message_count + add_message_count.delta
    WHERE k.session_id = add_message_count.session_id;
  ELSIF add_message_count.delta > 0 THEN
    INSERT INTO session_manager.session_message_counts AS k (session_id, message_count)
    VALUES (add_message_count.session_id, add_message_count.delta)
    ON CONFLICT ON CONSTRAINT session_message_counts_pkey DO UPDATE SET message_count = k.message_count + add_message_count.delta;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION session_manager.touch_sessions(session_ids pg_catalog.text[]) RETURNS pg_catalog.int4
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  one pg_catalog.text;
  live pg_catalog.int4 := 0;
BEGIN
  IF touch_sessions.session_ids IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'session_ids must not be NULL', 'Pass an array of session ids (it may be empty).');
  ELSIF pg_catalog.array_position(touch_sessions.session_ids, NULL::pg_catalog.text) IS NOT NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'session_ids must not contain NULL', 'Remove the NULL elements from the array.');
  ELSIF pg_catalog.array_position(touch_sessions.session_ids, ''::pg_catalog.text) IS NOT NULL THEN
    PERFORM session_manager.raise_invalid('22023', 'session_ids must not contain an empty id', 'Remove the empty strings from the array.');
  END IF;
  -- One routed touch per distinct id, in id order (two batches over the same ids never
  -- deadlock): Citus runs no multi-shard FOR UPDATE, and each statement names one shard.
  FOR one IN SELECT DISTINCT u.id FROM pg_catalog.unnest(touch_sessions.session_ids) AS u(id) ORDER BY u.id LOOP
    IF session_manager.touch_session(one) THEN
      live := live OPERATOR(pg_catalog.+) 1;
    END IF;
  END LOOP;
  RETURN live;
END
$$;

CREATE OR REPLACE FUNCTION session_manager.deactivate_idle_batch(idle_timeout interval, batch_size integer, only_user text)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_seqscan = off AS $$
DECLARE
  deactivated integer;
BEGIN
  UPDATE public."conversationSessions" c
  SET "isActive" = false
  WHERE c.id IN (
      SELECT t.id FROM public."conversationSessions" t
      WHERE t."isActive"
        AND t."lastActivity" < now() - deactivate_idle_batch.idle_timeout
        AND (deactivate_idle_batch.only_user IS NULL OR t."userId" = deactivate_idle_batch.only_user)
      LIMIT deactivate_idle_batch.batch_size)
    AND c."isActive"
    AND c."lastActivity" < now() - deactivate_idle_batch.idle_timeout;
  GET DIAGNOSTICS deactivated = ROW_COUNT;
  RETURN deactivated;
END
$$;

CREATE OR REPLACE FUNCTION session_manager.purge_inactive_batch(older_than interval, batch_size integer) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  purged integer;
BEGIN
  DELETE FROM public."conversationSessions" c
  WHERE c.id IN (
      SELECT t.id FROM public."conversationSessions" t
      WHERE NOT t."isActive"
        AND t."createdAt" < (now() - purge_inactive_batch.older_than)::timestamp
        AND t."lastActivity" < now() - purge_inactive_batch.older_than
      LIMIT purge_inactive_batch.batch_size)
    AND NOT c."isActive"
    AND c."lastActivity" < now() - purge_inactive_batch.older_than;
  GET DIAGNOSTICS purged = ROW_COUNT;
  RETURN purged;
END
$$;

-- Every function of the package on every node: Citus copies a function to the workers when it is
-- created only if it depends on nothing local, so those whose SQL body named a table before it
-- was distributed (add_message_count, ...) existed on the coordinator alone (a call run on a worker
-- failed there: "function session_manager.add_message_count(text, integer) does not exist").
SELECT pg_catalog.create_distributed_function(p.oid::regprocedure)
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'session_manager'::regnamespace AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_object o
                  WHERE o.classid = 'pg_catalog.pg_proc'::regclass AND o.objid = p.oid);
-- A setting made with SET LOCAL (session_manager.user_id, for the application role's direct
-- reads through Row Level Security) reaches the workers' shards in the same transaction.
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER DATABASE %I SET citus.propagate_set_commands = %L', pg_catalog.current_database(), 'local');
END
$$;
SET LOCAL citus.propagate_set_commands = 'local';
COMMIT;
\else
\echo citus/functions: not distributing (see citus/preflight)
\endif
