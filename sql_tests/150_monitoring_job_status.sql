-- cleanup_job_status(): the cleanup job as pg_cron records it; 'unknown' where pg_cron is not in
-- this database (as here), read from a stand-in of pg_cron's tables for the other states.
BEGIN;
SELECT plan(13);
SELECT has_function('session_manager', 'cleanup_job_status', ARRAY[]::text[], 'cleanup_job_status() exists');
SELECT is(to_regclass('cron.job'), NULL, 'this database has no pg_cron');
SELECT results_eq($$SELECT job_state, job_id, last_run_status, consecutive_failures FROM session_manager.cleanup_job_status()$$,
                  $$VALUES ('unknown'::text, NULL::bigint, NULL::text, NULL::integer)$$,
                  'without pg_cron: one row, state unknown');
SELECT is((SELECT job_name FROM session_manager.cleanup_job_status()), 'session_manager_cleanup_' || current_database()::text,
          'naming the job it looks for');

\ir fixtures/cron_stub.sql
SELECT results_eq($$SELECT job_state, job_id, job_schedule, last_run_status, consecutive_failures FROM session_manager.cleanup_job_status()$$,
                  $$VALUES ('scheduled'::text, 7::bigint, '* * * * *'::text, NULL::text, 0)$$,
                  'a scheduled job that has not run yet: scheduled, no last run, no failures');

INSERT INTO cron.job_run_details (jobid, runid, status, return_message, start_time, end_time) VALUES
  (7, 1, 'failed',    'ERROR:  an old failure', now() - interval '5 minutes', now() - interval '5 minutes'),
  (7, 2, 'succeeded', 'CALL',                   now() - interval '4 minutes', now() - interval '4 minutes'),
  (8, 3, 'failed',    'ERROR:  not ours',       now() - interval '3 minutes', now() - interval '3 minutes');
SELECT results_eq($$SELECT last_run_status, last_success_at, last_failure_message, consecutive_failures FROM session_manager.cleanup_job_status()$$,
                  $$VALUES ('succeeded'::text, now() - interval '4 minutes', 'ERROR:  an old failure'::text, 0)$$,
                  'after a failure and a success: last run succeeded, the old failure kept, none in a row; another job''s runs ignored');

INSERT INTO cron.job_run_details (jobid, runid, status, return_message, start_time, end_time) VALUES
  (7, 4, 'failed', 'ERROR:  canceling statement due to lock timeout', now() - interval '2 minutes', now() - interval '2 minutes'),
  (7, 5, 'failed', 'ERROR:  could not serialize access', now() - interval '1 minute', now() - interval '1 minute');
SELECT results_eq($$SELECT last_run_status, last_failure_at, last_failure_message, consecutive_failures FROM session_manager.cleanup_job_status()$$,
                  $$VALUES ('failed'::text, now() - interval '1 minute', 'ERROR:  could not serialize access'::text, 2)$$,
                  'two failures after the last success: the newest failure and its message, two in a row');

INSERT INTO cron.job_run_details (jobid, runid, status, start_time) VALUES (7, 6, 'running', now());
SELECT results_eq($$SELECT last_run_status, last_run_finished_at, consecutive_failures FROM session_manager.cleanup_job_status()$$,
                  $$VALUES ('running'::text, NULL::timestamptz, 2)$$, 'a run in progress is the last run; it breaks no failure streak');

UPDATE cron.job SET active = false WHERE jobid = 7;
SELECT is((SELECT job_state FROM session_manager.cleanup_job_status()), 'inactive', 'a job set inactive reports inactive');
DELETE FROM cron.job WHERE jobid = 7;
SELECT results_eq($$SELECT job_state, job_id FROM session_manager.cleanup_job_status()$$,
                  $$VALUES ('missing'::text, NULL::bigint)$$, 'pg_cron here without the job: missing');

SELECT is((SELECT p.prosecdef FROM pg_proc p WHERE p.oid = 'session_manager.cleanup_job_status()'::regprocedure), true,
          'it is SECURITY DEFINER (pg_cron shows each role its own jobs only)');
SELECT ok((SELECT 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig) FROM pg_proc p
           WHERE p.oid = 'session_manager.cleanup_job_status()'::regprocedure), 'with its search_path pinned');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'session_manager.cleanup_job_status()'::regprocedure), 's',
          'and it is STABLE: it changes nothing');
SELECT * FROM finish();
ROLLBACK;
