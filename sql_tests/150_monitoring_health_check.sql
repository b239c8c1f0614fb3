-- health_check(): one row per check, each driven into warning and into critical here, by making
-- its condition true or by setting its threshold below the value. Statistics are reported
-- between transactions, so a first transaction (rolled back) calls touch_session and leaves
-- dead tuples behind, and pg_stat_force_next_flush() makes them visible at once.
BEGIN;
\ir fixtures/chat.sql
INSERT INTO public."conversationSessions" (id, "userId", agent) SELECT 'dead-' || i, 'u1', 'geral' FROM generate_series(1, 1500) AS i;
SELECT session_manager.touch_session('live');
ROLLBACK;
SELECT pg_stat_force_next_flush();

BEGIN;
SELECT plan(51);
\ir fixtures/chat.sql
DELETE FROM session_manager.cleanup_runs;
CREATE FUNCTION pg_temp.hc(c text) RETURNS TABLE(status text, value numeric, threshold numeric, detail text)
LANGUAGE sql AS $$SELECT h.status, h.value, h.threshold, h.detail FROM session_manager.health_check() h WHERE h.check_name = c$$;
CREATE FUNCTION pg_temp.run(finished interval, source text DEFAULT 'direct', scoped boolean DEFAULT false) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO session_manager.cleanup_runs (started_at, finished_at, source, scoped, idle_timeout, deactivated, purged)
  VALUES (now() - finished - interval '1 second', now() - finished, source, scoped, interval '30 minutes', 0, 0)$$;

SELECT has_function('session_manager', 'health_check', ARRAY[]::text[], 'health_check() exists');
SELECT results_eq($$SELECT check_name FROM session_manager.health_check()$$,
                  ARRAY['cleanup_age', 'cleanup_failures', 'idle_backlog', 'idle_backlog_age', 'touch_mean_time',
                        'dead_tuples', 'pg_cron', 'pg_stat_statements'],
                  'it returns one row per check, in a fixed order');
SELECT is_empty($$SELECT 1 FROM session_manager.health_check() WHERE status NOT IN ('ok', 'warning', 'critical')$$,
                'every status is ok, warning or critical');

-- cleanup_age: seconds since the last cleanup of all users; 5 and 15 minutes by default.
SELECT results_eq($$SELECT status, value FROM pg_temp.hc('cleanup_age')$$, $$VALUES ('warning'::text, NULL::numeric)$$,
                  'cleanup_age: no run recorded at all is a warning');
SELECT pg_temp.run(interval '1 minute');
SELECT results_eq($$SELECT status, round(value), threshold FROM pg_temp.hc('cleanup_age')$$, $$VALUES ('ok'::text, 60::numeric, 300::numeric)$$,
                  'cleanup_age: a run a minute ago is ok (value in seconds, the warning threshold)');
DELETE FROM session_manager.cleanup_runs;
SELECT pg_temp.run(interval '6 minutes');
SELECT results_eq($$SELECT status, threshold FROM pg_temp.hc('cleanup_age')$$, $$VALUES ('warning'::text, 300::numeric)$$,
                  'cleanup_age: the last run 6 minutes ago is a warning');
DELETE FROM session_manager.cleanup_runs;
SELECT pg_temp.run(interval '20 minutes');
SELECT pg_temp.run(interval '10 seconds', 'direct', true);
SELECT results_eq($$SELECT status, threshold FROM pg_temp.hc('cleanup_age')$$, $$VALUES ('critical'::text, 900::numeric)$$,
                  'cleanup_age: 20 minutes is critical, a recent run scoped to one user notwithstanding');
SELECT is(session_manager.cleanup_old_sessions(), 2, 'a cleanup of all users');
SELECT is((SELECT status FROM pg_temp.hc('cleanup_age')), 'ok', 'cleanup_age: makes it ok again');

-- idle_backlog: the fixtures' 2 sessions idle past the timeout are back; 1,000 and 10,000 by default.
UPDATE public."conversationSessions" SET "isActive" = true WHERE id IN ('stale', 'past');
SELECT results_eq($$SELECT status, value, threshold FROM pg_temp.hc('idle_backlog')$$, $$VALUES ('ok'::text, 2::numeric, 1000::numeric)$$,
                  'idle_backlog: 2 sessions is ok by default');
UPDATE session_manager.settings SET health_backlog_warning = 1, health_backlog_critical = 3;
SELECT results_eq($$SELECT status, threshold FROM pg_temp.hc('idle_backlog')$$, $$VALUES ('warning'::text, 1::numeric)$$,
                  'idle_backlog: above a warning threshold of 1 is a warning');
INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity") VALUES
  ('stale-2', 'u1', 'geral', now() - interval '40 minutes'), ('stale-3', 'u2', 'max', now() - interval '50 minutes');
SELECT results_eq($$SELECT status, value, threshold FROM pg_temp.hc('idle_backlog')$$, $$VALUES ('critical'::text, 4::numeric, 3::numeric)$$,
                  'idle_backlog: two more idle sessions, 4 above 3, is critical');
SELECT matches((SELECT detail FROM pg_temp.hc('idle_backlog')), '^4 active session', 'the detail says how many');

-- idle_backlog_age: 'stale' was used two hours ago, 90 minutes past the timeout; 5 and 15 minutes by default.
SELECT results_eq($$SELECT status, round(value), threshold FROM pg_temp.hc('idle_backlog_age')$$,
                  $$VALUES ('critical'::text, 5400::numeric, 900::numeric)$$,
                  'idle_backlog_age: a session 90 minutes past its timeout is critical');
UPDATE session_manager.settings SET health_backlog_age_warning = interval '1 hour', health_backlog_age_critical = interval '2 hours';
SELECT results_eq($$SELECT status, threshold FROM pg_temp.hc('idle_backlog_age')$$, $$VALUES ('warning'::text, 3600::numeric)$$,
                  'idle_backlog_age: between 1 and 2 hours is a warning');
SELECT is(session_manager.cleanup_old_sessions(), 4, 'cleaning the backlog');
SELECT results_eq($$SELECT status, value FROM pg_temp.hc('idle_backlog_age')$$, $$VALUES ('ok'::text, 0::numeric)$$,
                  'idle_backlog_age: leaves no age, ok');
SELECT is((SELECT status FROM pg_temp.hc('idle_backlog')), 'ok', 'idle_backlog: and no backlog, ok');

-- touch_mean_time: the touch of the first transaction is in the statistics.
SELECT ok((SELECT value > 0 FROM pg_temp.hc('touch_mean_time')), 'touch_mean_time: the mean of the touches so far, in ms');
SELECT is((SELECT value FROM pg_temp.hc('touch_mean_time')),
          (SELECT round(mean_ms::numeric, 6) FROM session_manager.function_stats WHERE function_name = 'touch_session'),
          'touch_mean_time: is function_stats'' mean_ms of touch_session');
UPDATE session_manager.settings SET health_touch_mean_ms_warning = 100000, health_touch_mean_ms_critical = 100000;
SELECT is((SELECT status FROM pg_temp.hc('touch_mean_time')), 'ok', 'touch_mean_time: below the thresholds is ok');
UPDATE session_manager.settings SET health_touch_mean_ms_warning = 0;
SELECT results_eq($$SELECT status, threshold FROM pg_temp.hc('touch_mean_time')$$, $$VALUES ('warning'::text, 0::numeric)$$,
                  'touch_mean_time: above the warning threshold is a warning');
UPDATE session_manager.settings SET health_touch_mean_ms_critical = 0;
SELECT results_eq($$SELECT status, threshold FROM pg_temp.hc('touch_mean_time')$$, $$VALUES ('critical'::text, 0::numeric)$$,
                  'touch_mean_time: above the critical threshold is critical');
SET LOCAL track_functions = 'none';
SELECT results_eq($$SELECT status, value FROM pg_temp.hc('touch_mean_time')$$, $$VALUES ('warning'::text, NULL::numeric)$$,
                  'touch_mean_time: with track_functions = none nothing is measured: a warning');
SET LOCAL track_functions = 'all';

-- dead_tuples: the first transaction's 1,500 rolled-back rows are dead tuples of "conversationSessions".
-- Judged as autovacuum does: past threshold + scale factor x reltuples (the table's reloptions
-- first), then by the seconds past it without a vacuum (10 minutes and 1 hour by default).
UPDATE session_manager.settings SET health_dead_tuples_min = 1;
-- The package's own tables out of the way (their dead tuples depend on what ran before in this database).
DO $$
DECLARE t regclass;
BEGIN
  FOR t IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'session_manager'::regnamespace AND c.relkind = 'r' LOOP
    EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_threshold = 2000000000)', t);
  END LOOP;
END
$$;
ALTER TABLE public."conversationSessions" SET (autovacuum_vacuum_threshold = 100000);
SELECT results_eq($$SELECT status, value FROM pg_temp.hc('dead_tuples')$$, $$VALUES ('ok'::text, 0::numeric)$$,
                  'dead_tuples: some 1,500 dead tuples within the table''s own trigger of 100,000 is ok, 0 s overdue');
SELECT matches((SELECT detail FROM pg_temp.hc('dead_tuples')), 'conversationSessions.: [0-9]+ dead tuples, within autovacuum''s trigger of 100000 \(100000 \+ 0\.2 x',
               'the detail names the table, its dead tuples and the trigger with its reloption');
ALTER TABLE public."conversationSessions" SET (autovacuum_vacuum_threshold = 10, autovacuum_vacuum_scale_factor = 0);
SELECT matches((SELECT detail FROM pg_temp.hc('dead_tuples')), '[0-9]+ dead tuples, past autovacuum''s trigger of 10 \(10 \+ 0 x',
               'dead_tuples: past a trigger of 10 set by reloptions');
SELECT ok((SELECT value > 0 FROM pg_temp.hc('dead_tuples')), 'dead_tuples: past the trigger, the seconds overdue are positive');
UPDATE session_manager.settings SET health_vacuum_overdue_warning = interval '100 years', health_vacuum_overdue_critical = interval '100 years';
SELECT results_eq($$SELECT status, threshold FROM pg_temp.hc('dead_tuples')$$, $$VALUES ('ok'::text, 3155760000::numeric)$$,
                  'dead_tuples: past the trigger for less than health_vacuum_overdue_warning is ok');
UPDATE session_manager.settings SET health_vacuum_overdue_warning = interval '0';
SELECT results_eq($$SELECT status, threshold FROM pg_temp.hc('dead_tuples')$$, $$VALUES ('warning'::text, 0::numeric)$$,
                  'dead_tuples: overdue longer than health_vacuum_overdue_warning is a warning');
UPDATE session_manager.settings SET health_vacuum_overdue_critical = interval '0';
SELECT results_eq($$SELECT status, threshold FROM pg_temp.hc('dead_tuples')$$, $$VALUES ('critical'::text, 0::numeric)$$,
                  'dead_tuples: overdue longer than health_vacuum_overdue_critical is critical');
ALTER TABLE public."conversationSessions" SET (autovacuum_enabled = false);
SELECT matches((SELECT detail FROM pg_temp.hc('dead_tuples')), 'autovacuum is off for it',
               'the detail says when autovacuum is off for the table');
ALTER TABLE public."conversationSessions" RESET (autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor, autovacuum_enabled);
UPDATE session_manager.settings SET health_dead_tuples_min = 1000000000000;
SELECT results_eq($$SELECT status, value FROM pg_temp.hc('dead_tuples')$$, $$VALUES ('ok'::text, 0::numeric)$$,
                  'dead_tuples: tables with fewer dead tuples than health_dead_tuples_min are not judged');
SELECT throws_ok($$UPDATE session_manager.settings SET health_vacuum_overdue_warning = interval '2 hours'$$, '23514', NULL,
                 'a warning overdue time above the critical one is refused');

-- pg_stat_statements: not installed here; installed (it is preloaded in the test cluster).
SELECT results_eq($$SELECT status, value FROM pg_temp.hc('pg_stat_statements')$$, $$VALUES ('warning'::text, NULL::numeric)$$,
                  'pg_stat_statements: missing is a warning');
CREATE EXTENSION pg_stat_statements;
SELECT is((SELECT status FROM pg_temp.hc('pg_stat_statements')), 'ok', 'pg_stat_statements: installed and loaded is ok');

-- pg_cron and cleanup_failures: not in this database first, then a stand-in of pg_cron's tables.
SELECT is((SELECT status FROM pg_temp.hc('pg_cron')), 'warning', 'pg_cron: not in this database and no run from it is a warning');
SELECT pg_temp.run(interval '1 minute', 'cron');
SELECT is((SELECT status FROM pg_temp.hc('pg_cron')), 'ok', 'pg_cron: a recent run by pg_cron from its own database is ok');
SELECT results_eq($$SELECT status, value FROM pg_temp.hc('cleanup_failures')$$, $$VALUES ('ok'::text, NULL::numeric)$$,
                  'cleanup_failures: without pg_cron''s records there is nothing to judge');
\ir fixtures/cron_stub.sql
SELECT is((SELECT status FROM pg_temp.hc('pg_cron')), 'ok', 'pg_cron: the job scheduled and active is ok');
SELECT results_eq($$SELECT status, value, threshold FROM pg_temp.hc('cleanup_failures')$$, $$VALUES ('ok'::text, 0::numeric, 0::numeric)$$,
                  'cleanup_failures: no run yet is ok');
INSERT INTO cron.job_run_details (jobid, runid, status, return_message, start_time, end_time) VALUES
  (7, 1, 'succeeded', 'CALL', now() - interval '3 minutes', now() - interval '3 minutes'),
  (7, 2, 'failed', 'ERROR:  canceling statement due to lock timeout', now() - interval '2 minutes', now() - interval '2 minutes');
SELECT results_eq($$SELECT status, value, threshold FROM pg_temp.hc('cleanup_failures')$$, $$VALUES ('warning'::text, 1::numeric, 0::numeric)$$,
                  'cleanup_failures: the last run failed: a warning');
SELECT matches((SELECT detail FROM pg_temp.hc('cleanup_failures')), 'lock timeout', 'the detail quotes the failure''s message');
INSERT INTO cron.job_run_details (jobid, runid, status, return_message, start_time, end_time) VALUES
  (7, 3, 'failed', 'ERROR:  boom', now() - interval '1 minute', now() - interval '1 minute'),
  (7, 4, 'failed', 'ERROR:  boom again', now(), now());
SELECT results_eq($$SELECT status, value, threshold FROM pg_temp.hc('cleanup_failures')$$, $$VALUES ('critical'::text, 3::numeric, 2::numeric)$$,
                  'cleanup_failures: three failures in a row is critical');
SELECT matches((SELECT detail FROM pg_temp.hc('cleanup_failures')), 'boom again', 'the detail quotes the newest failure');
INSERT INTO cron.job_run_details (jobid, runid, status, return_message, start_time, end_time) VALUES
  (7, 5, 'succeeded', 'CALL', now(), now());
SELECT is((SELECT status FROM pg_temp.hc('cleanup_failures')), 'ok', 'cleanup_failures: a success ends the streak');
UPDATE cron.job SET active = false WHERE jobid = 7;
SELECT is((SELECT status FROM pg_temp.hc('pg_cron')), 'critical', 'pg_cron: the job set inactive is critical');
DELETE FROM cron.job WHERE jobid = 7;
SELECT is((SELECT status FROM pg_temp.hc('pg_cron')), 'critical', 'pg_cron: pg_cron here without the job is critical');
SELECT matches((SELECT detail FROM pg_temp.hc('pg_cron')), 'is missing', 'the detail says the job is missing');

SELECT throws_ok($$UPDATE session_manager.settings SET health_backlog_critical = 0, health_backlog_warning = 1$$, '23514', NULL,
                 'a critical threshold below the warning one is refused');
SELECT is((SELECT p.prosecdef FROM pg_proc p WHERE p.oid = 'session_manager.health_check()'::regprocedure), true,
          'health_check is SECURITY DEFINER (it reads what the monitoring role may not)');
SELECT * FROM finish();
ROLLBACK;
