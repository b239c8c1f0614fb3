-- cleanup_totals: exact running totals of the recorded cleanup runs, kept by cleanup_runs' trigger
-- in the run's own transaction, never lowered by the history's trimming.
BEGIN;
SELECT plan(9);
\ir fixtures/chat.sql
CREATE TEMP TABLE before AS SELECT * FROM session_manager.cleanup_totals;

SELECT has_view('session_manager', 'cleanup_totals', 'the cleanup_totals view exists');
SELECT is((SELECT count(*)::int FROM session_manager.cleanup_totals), 1, 'it has exactly one row');

SELECT is(session_manager.cleanup_old_sessions(), 2, 'a cleanup deactivates the fixtures'' 2 idle sessions');
SELECT results_eq($$SELECT t.runs - b.runs, t.deactivated - b.deactivated, t.purged - b.purged
                    FROM session_manager.cleanup_totals t, before b$$,
                  $$VALUES (1::bigint, 2::bigint, 0::bigint)$$, 'the totals count the run and its 2 sessions');

SELECT ok(session_manager.record_cleanup_run(now(), 'cron', false, interval '30 minutes', 7, 5) > 0,
          'a run recorded by the job, 7 deactivated and 5 purged');
SELECT results_eq($$SELECT t.runs - b.runs, t.deactivated - b.deactivated, t.purged - b.purged
                    FROM session_manager.cleanup_totals t, before b$$,
                  $$VALUES (2::bigint, 9::bigint, 5::bigint)$$, 'is added to the totals');

UPDATE session_manager.settings SET cleanup_history_rows = 1;
SELECT is(session_manager.cleanup_old_sessions(), 0, 'a run with nothing to do, the history trimmed to one row');
SELECT results_eq($$SELECT (SELECT count(*) FROM session_manager.cleanup_runs), t.runs - b.runs, t.deactivated - b.deactivated
                    FROM session_manager.cleanup_totals t, before b$$,
                  $$VALUES (1::bigint, 3::bigint, 9::bigint)$$,
                  'the history keeps one row, the totals keep counting every run');

SELECT throws_ok($$INSERT INTO session_manager.cleanup_counter (one, runs, deactivated, purged, counting_since)
                   VALUES (true, 0, 0, 0, now())$$, '23505', NULL, 'a second counter row is refused');
SELECT * FROM finish();
ROLLBACK;
