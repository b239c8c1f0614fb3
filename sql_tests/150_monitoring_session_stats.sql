-- session_stats: one row of session figures. Compared with the figures before the fixtures, so
-- whatever else this database holds does not matter. (The estimates and the *_total counters
-- come from statistics reported between transactions: tests/test_monitoring.py.)
BEGIN;
SELECT plan(10);
SELECT has_view('session_manager', 'session_stats', 'the session_stats view exists');
CREATE TEMP TABLE before ON COMMIT DROP AS SELECT * FROM session_manager.session_stats;
SELECT is((SELECT count(*)::int FROM before), 1, 'it has exactly one row');
\ir fixtures/chat.sql
CREATE TEMP VIEW delta AS
SELECT s.active_sessions - b.active_sessions AS active, s.live_sessions - b.live_sessions AS live,
       s.idle_backlog - b.idle_backlog AS backlog, s.created_last_hour - b.created_last_hour AS created,
       s.deactivated_last_hour - b.deactivated_last_hour AS deactivated,
       s.cleanup_runs_last_hour - b.cleanup_runs_last_hour AS runs, s.idle_backlog_oldest_seconds AS oldest
FROM session_manager.session_stats s, before b;

SELECT results_eq($$SELECT active, live, backlog, created FROM delta$$, $$VALUES (5::bigint, 3::bigint, 2::bigint, 6::bigint)$$,
                  'the fixtures add 5 active sessions: 3 live (edge included) and 2 idle past the timeout; 6 created this hour');
SELECT cmp_ok((SELECT oldest FROM delta), '>=', 5400::numeric,
              'the oldest of the backlog (idle two hours) is 90 minutes past the 30-minute timeout');
SELECT is((SELECT idle_timeout_seconds FROM session_manager.session_stats), 1800::numeric, 'the timeout in seconds is shown');

UPDATE public."conversationSessions" SET "createdAt" = now() - interval '2 hours' WHERE id IN ('stale', 'ended');
SELECT is((SELECT created FROM delta), 4::bigint, 'sessions created two hours ago, active or not, are not created this hour');

SELECT is(session_manager.cleanup_old_sessions(), 2, 'a cleanup deactivates the backlog');
SELECT results_eq($$SELECT active, live, backlog, deactivated, runs FROM delta$$,
                  $$VALUES (3::bigint, 3::bigint, 0::bigint, 2::bigint, 1::bigint)$$,
                  'after it: no backlog, two deactivated and one run this hour');
SELECT is((SELECT idle_backlog_oldest_seconds FROM session_manager.session_stats), 0::numeric,
          'an empty backlog has no age');

UPDATE session_manager.settings SET idle_timeout = interval '10 seconds';
SELECT results_eq($$SELECT live, backlog FROM delta$$, $$VALUES (0::bigint, 3::bigint)$$,
                  'live and backlog follow the idle_timeout setting at once');
SELECT * FROM finish();
ROLLBACK;
