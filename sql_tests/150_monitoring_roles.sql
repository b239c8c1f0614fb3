-- The monitoring role reads the monitoring views and calls the monitoring functions, and can do
-- nothing else: no table, no write, no session function. The application's role gets none of them.
BEGIN;
SELECT plan(28);
\ir fixtures/chat.sql

SELECT results_eq($$SELECT c.relname::text COLLATE "default" FROM pg_class c WHERE c.relnamespace = 'session_manager'::regnamespace
                      AND has_table_privilege('session_manager_monitor', c.oid, 'SELECT') ORDER BY 1$$,
                  ARRAY['cleanup_history', 'cleanup_totals', 'function_stats', 'session_stats', 'storage_stats'],
                  'the monitoring role may SELECT the five monitoring views, and no other relation of the package');
SELECT results_eq($$SELECT p.proname::text COLLATE "default" FROM pg_proc p WHERE p.pronamespace = 'session_manager'::regnamespace
                      AND has_function_privilege('session_manager_monitor', p.oid, 'EXECUTE') ORDER BY 1$$,
                  ARRAY['cleanup_job_status', 'health_check', 'statement_stats'],
                  'it may EXECUTE the three monitoring functions, and no other function of the package');
SELECT is_empty($$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'session_manager'::regnamespace
                    AND has_table_privilege('session_manager_monitor', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')$$,
                'it may write no relation of the package');
SELECT ok(NOT has_table_privilege('session_manager_monitor', 'public."conversationSessions"', 'SELECT, INSERT, UPDATE, DELETE'),
          'nor read or write "conversationSessions"');
SELECT is_empty($$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'session_manager'::regnamespace
                    AND c.relname IN ('cleanup_history', 'cleanup_totals', 'function_stats', 'session_stats', 'storage_stats')
                    AND has_table_privilege('session_manager_app', c.oid, 'SELECT')$$,
                'the application''s role may read none of the monitoring views');
SELECT is_empty($$SELECT p.proname FROM pg_proc p WHERE p.oid IN ('session_manager.health_check()'::regprocedure,
                    'session_manager.cleanup_job_status()'::regprocedure, 'session_manager.statement_stats()'::regprocedure)
                    AND has_function_privilege('session_manager_app', p.oid, 'EXECUTE')$$,
                'nor call the monitoring functions');

SELECT session_manager.cleanup_old_sessions();
CREATE TEMP TABLE as_owner ON COMMIT DROP AS SELECT active_sessions, idle_backlog, cleanup_runs_last_hour FROM session_manager.session_stats;
GRANT SELECT ON as_owner TO session_manager_monitor;

SET LOCAL ROLE session_manager_monitor;
SELECT results_eq($$SELECT active_sessions, idle_backlog, cleanup_runs_last_hour FROM session_manager.session_stats$$,
                  $$SELECT * FROM as_owner$$, 'as the monitoring role, session_stats shows the same figures as to the owner');
SELECT isnt_empty($$SELECT * FROM session_manager.storage_stats$$, 'it reads storage_stats');
SELECT isnt_empty($$SELECT * FROM session_manager.cleanup_history$$, 'it reads cleanup_history');
SELECT isnt_empty($$SELECT * FROM session_manager.cleanup_totals$$, 'it reads cleanup_totals');
SELECT lives_ok($$SELECT * FROM session_manager.function_stats$$, 'it reads function_stats');
SELECT is((SELECT count(*)::int FROM session_manager.health_check()), 8, 'it runs health_check and gets every check');
SELECT is((SELECT job_state FROM session_manager.cleanup_job_status()), 'unknown', 'it reads the job''s status');
SELECT lives_ok($$SELECT * FROM session_manager.statement_stats()$$, 'it calls statement_stats');

SELECT throws_ok($$DELETE FROM session_manager.cleanup_history$$, '42501', NULL, 'it cannot delete the history through its view');
SELECT throws_ok($$SELECT * FROM session_manager.cleanup_runs$$, '42501', NULL, 'it cannot read the history table itself');
SELECT throws_ok($$UPDATE session_manager.settings SET health_backlog_warning = 0$$, '42501', NULL, 'it cannot change a threshold');
SELECT throws_ok($$SELECT * FROM session_manager.settings$$, '42501', NULL, 'nor read the settings');
SELECT throws_ok($$SELECT * FROM public."conversationSessions"$$, '42501', NULL, 'nor read the sessions');
SELECT throws_ok($$SELECT * FROM session_manager.messages$$, '42501', NULL, 'nor the messages');
SELECT throws_ok($$SELECT session_manager.touch_session('live')$$, '42501', NULL, 'it cannot touch a session');
SELECT throws_ok($$SELECT session_manager.cleanup_old_sessions()$$, '42501', NULL, 'nor run a cleanup');
SELECT throws_ok($$SELECT session_manager.get_session_info('live')$$, '42501', NULL, 'nor read a session through the functions');
SELECT throws_ok($$SELECT session_manager.record_cleanup_run(now(), 'direct', false, '1 minute', 0, 0)$$, '42501', NULL,
                 'nor record a cleanup run');
SELECT throws_ok($$CALL session_manager.run_cleanup_job()$$, '42501', NULL, 'nor run the job''s procedure');
RESET ROLE;

-- statement_stats() runs with its caller's rights: pg_stat_statements shows another role's
-- statement texts only to members of pg_read_all_stats, which an administrator grants.
CREATE EXTENSION pg_stat_statements;
SELECT session_manager.touch_session('live');
SET LOCAL ROLE session_manager_monitor;
SELECT is_empty($$SELECT 1 FROM session_manager.statement_stats() WHERE query LIKE '%touch_session%'$$,
                'without pg_read_all_stats the monitoring role does not see the owner''s statements');
RESET ROLE;
GRANT pg_read_all_stats TO session_manager_monitor;
SET LOCAL ROLE session_manager_monitor;
SELECT isnt_empty($$SELECT 1 FROM session_manager.statement_stats() WHERE query LIKE '%touch_session%'$$,
                  'with pg_read_all_stats it does');
RESET ROLE;

SET LOCAL ROLE session_manager_app;
SELECT throws_ok($$SELECT * FROM session_manager.health_check()$$, '42501', NULL, 'the application''s role cannot run health_check');
RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
