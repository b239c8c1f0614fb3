-- Deploy pg-session-manager:last_activity_backfill to pg
-- requires: session_columns
-- No BEGIN/COMMIT: this change commits as it goes, so a million-row table is never locked
-- as a whole and autovacuum can reclaim the old row versions between batches. Idempotent:
-- run again after a failure, it goes on where it stopped.
SET lock_timeout = '3s';
SET client_min_messages = warning;
SET statement_timeout = 0;

-- Existing rows: "lastActivity" is the moment the application last changed the session,
-- "updatedAt" read in the server's TimeZone, not the time of this migration: a session idle
-- for two days must not look fresh after the deploy. Walks the primary key in ranges of 5,000
-- rows, committing after each, so the application's writers wait at most one range on a row
-- lock. Each range is an index range scan of the primary key; an UPDATE ... FROM (SELECT ...
-- LIMIT) was planned as a hash join over the whole table, 370-420 ms a batch at 1,000,000 rows
-- (150 s in all); this way the whole backfill of 1,000,000 rows, NOT NULL included, took 6.0 s
-- on the 2-core development machine (psql -f this file after session_columns).
DO $$
DECLARE
  last_id text := '';
  batch_last text;
  -- The zone as a value, not the timestamptz cast, which is STABLE (it reads TimeZone): Citus
  -- refuses a STABLE function over a column in an UPDATE of a distributed table.
  tz text := pg_catalog.current_setting('TimeZone');
BEGIN
  LOOP
    SELECT pg_catalog.max(b.id) INTO batch_last
    FROM (SELECT c.id FROM public."conversationSessions" c
          WHERE c.id OPERATOR(pg_catalog.>) last_id
          ORDER BY c.id LIMIT 5000) AS b;
    EXIT WHEN batch_last IS NULL;
    UPDATE public."conversationSessions" c
    SET "lastActivity" = pg_catalog.timezone(tz, c."updatedAt")
    WHERE c.id OPERATOR(pg_catalog.>) last_id AND c.id OPERATOR(pg_catalog.<=) batch_last
      AND c."lastActivity" IS NULL;
    last_id := batch_last;
    COMMIT;
  END LOOP;
END
$$;

-- NOT NULL without a long exclusive lock: a NOT VALID check is added in a moment, validated
-- under SHARE UPDATE EXCLUSIVE (the application keeps reading and writing during the scan),
-- then SET NOT NULL uses the validated check instead of scanning under ACCESS EXCLUSIVE.
-- The two moments under ACCESS EXCLUSIVE take their lock 100 ms of waiting at a time
-- (the lock_with_retries block below).
BEGIN;
\set lock_tables 'public."conversationSessions"'
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
-- squawk-ignore ban-drop-constraint
ALTER TABLE public."conversationSessions" DROP CONSTRAINT IF EXISTS "conversationSessions_lastActivity_not_null";
ALTER TABLE public."conversationSessions"
  ADD CONSTRAINT "conversationSessions_lastActivity_not_null" CHECK ("lastActivity" IS NOT NULL) NOT VALID;
COMMIT;
ALTER TABLE public."conversationSessions" VALIDATE CONSTRAINT "conversationSessions_lastActivity_not_null";
BEGIN;
\set lock_tables 'public."conversationSessions"'
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
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public."conversationSessions" ALTER COLUMN "lastActivity" SET NOT NULL;
-- squawk-ignore ban-drop-constraint
ALTER TABLE public."conversationSessions" DROP CONSTRAINT IF EXISTS "conversationSessions_lastActivity_not_null";
COMMIT;
