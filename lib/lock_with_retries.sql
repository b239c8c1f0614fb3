-- Included (psql \ir) by the deploy and revert scripts that change "conversationSessions", inside
-- their transaction, before their first statement on it: takes the lock that statement needs, a
-- short wait at a time, and holds it to COMMIT.
--
-- Why: an ALTER TABLE waiting for its lock makes every later statement on the table wait behind
-- it. With one long wait (lock_timeout 3 s) a writer with lock_timeout 1 s timed out behind an
-- autoanalyze of the table in the million-row proof (autovacuum gives way only after
-- deadlock_timeout, 1 s), and a 3 s report query would do the same. Here each attempt waits at
-- most lock_attempt_timeout (100 ms: the longest the application is queued behind us), then
-- gives the table back for a growing pause (50 ms doubling to 1 s) and tries again, for up to
-- lock_retry_seconds in all; then the change fails whole, naming who held the table.
--
-- psql variables (sqitch deploy/revert --set NAME=VALUE, or psql -v):
--   lock_tables           what to lock, one LOCK TABLE list (default public."conversationSessions")
--   lock_mode             the lock mode (default ACCESS EXCLUSIVE)
--   lock_attempt_timeout  one attempt's wait (default 100ms)
--   lock_retry_seconds    how long to keep trying (default 180)
-- Every table the transaction will lock strongly goes into lock_tables, so that nothing is held
-- while it pauses (a held lock on another table would make the application wait the whole time).
\if :{?lock_tables}
\else
\set lock_tables 'public."conversationSessions"'
\endif
\if :{?lock_mode}
\else
\set lock_mode 'ACCESS EXCLUSIVE'
\endif
\if :{?lock_attempt_timeout}
\else
\set lock_attempt_timeout 100ms
\endif
\if :{?lock_retry_seconds}
\else
\set lock_retry_seconds 180
\endif
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
  previous_timeout text := current_setting('lock_timeout');
  previous_path text := current_setting('search_path');
  started timestamptz := clock_timestamp();
  attempts integer := 0;
  pause float8 := 0.05;
  holders text;
BEGIN
  -- Run as the deployer: nothing in its schemas may stand in for what this block calls.
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF lock_mode NOT IN ('ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE',
                       'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE') THEN
    RAISE EXCEPTION 'lock_mode % is not a table lock mode', lock_mode USING ERRCODE = 'invalid_parameter_value';
  END IF;
  LOOP
    attempts := attempts + 1;
    BEGIN
      PERFORM set_config('lock_timeout', attempt_timeout, true);
      EXECUTE format('LOCK TABLE %s IN %s MODE', tables, lock_mode);
      EXIT;
    EXCEPTION WHEN lock_not_available THEN
      -- The attempt is rolled back: nothing of ours is held while we look and pause.
      SELECT string_agg(DISTINCT format('pid %s (%s%s)', a.pid, a.backend_type,
                                        CASE WHEN a.query <> '' THEN ': ' || left(a.query, 80) END), '; ')
        INTO holders
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
        AND l.relation IN (SELECT btrim(t)::regclass::oid FROM regexp_split_to_table(tables, ',') t);
      IF extract(epoch FROM clock_timestamp() - started) + pause > retry_seconds THEN
        RAISE EXCEPTION 'could not lock % in % mode within % s: % attempts of % each', tables, lock_mode,
                        retry_seconds, attempts, attempt_timeout
          USING ERRCODE = 'lock_not_available',
                DETAIL = 'Held by: ' || coalesce(holders, 'nobody any more (the last holder just ended)'),
                HINT = 'Nothing of this change was applied, and no statement of the application waited longer than '
                       || attempt_timeout || ' behind it. Run it again when the table is quieter, or allow longer '
                       || 'with --set lock_retry_seconds=N.';
      END IF;
      RAISE NOTICE 'waiting to lock % (attempt %, held by %): next attempt in % s', tables, attempts,
                   coalesce(holders, 'nobody any more'), pause;
      PERFORM pg_sleep(pause);
      pause := least(pause * 2, 1.0);
    END;
  END LOOP;
  PERFORM set_config('lock_timeout', previous_timeout, true);
  PERFORM set_config('search_path', previous_path, true);
END
$lock$;
