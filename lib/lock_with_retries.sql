-- Included (psql \ir) by the deploy and revert scripts that change "conversationSessions", inside
-- their transaction, before their first statement on it: takes the lock those statements need, a
-- short wait at a time, and holds it to COMMIT.
--
-- Why: an ALTER TABLE waiting for its lock makes every later statement on the table wait behind
-- it. With one long wait (lock_timeout 3 s) a writer with lock_timeout 1 s timed out behind an
-- autoanalyze of the table in the million-row proof, and a transaction left open for 3 s would
-- do the same. Each attempt here:
--   1. takes SHARE UPDATE EXCLUSIVE, waiting up to the script's own lock_timeout: the lock
--      autovacuum holds, which the application's reads and writes do not conflict with, so
--      they are not queued behind this wait; autovacuum gives way to it after deadlock_timeout
--      (1 s) as it would to the ALTER, and cannot start again on the table while it is held;
--   2. takes the lock itself, waiting at most lock_attempt_timeout (100 ms: the longest the
--      application is queued behind us);
-- and on a timeout gives everything back for a pause (50 ms doubling to 1 s) and tries again, for
-- up to lock_retry_seconds in all; then the transaction fails whole, naming who held the table.
-- The rest of the transaction keeps lock_timeout = lock_attempt_timeout: a lock it still has to
-- wait for while it holds the table fails it rather than queue the application.
--
-- psql variables: lock_tables (one LOCK TABLE list: every table the transaction will lock
-- strongly, so that nothing is held while it pauses) and lock_mode are set by the including
-- script; a DBA may set, with sqitch deploy/revert --set NAME=VALUE:
--   lock_attempt_timeout  one attempt's wait (default 100ms)
--   lock_retry_seconds    how long to keep trying (default 180)
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
      RAISE NOTICE 'waiting to lock % (attempt %, held by %): next attempt in % s', tables, attempts,
                   coalesce(holders, 'nobody any more'), pause;
      PERFORM pg_sleep(pause);
      pause := least(pause * 2, 1.0);
    END;
  END LOOP;
  PERFORM set_config('search_path', previous_path, true);
END
$lock$;
