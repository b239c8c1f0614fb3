-- function_stats (pg_stat_user_functions) and statement_stats() (pg_stat_statements), scoped to
-- the package. Function statistics reach the view only once the backend reports them, which it
-- does between transactions: the calls below run first, in a transaction of their own that
-- changes nothing (the sessions are unknown), and pg_stat_force_next_flush() makes the report
-- happen at once.
SELECT session_manager.touch_session('no-such-session') FROM generate_series(1, 3);
SELECT session_manager.get_session_info('no-such-session');
SELECT pg_stat_force_next_flush();
BEGIN;
SELECT plan(14);
SELECT has_view('session_manager', 'function_stats', 'the function_stats view exists');
SELECT has_function('session_manager', 'statement_stats', ARRAY[]::text[], 'statement_stats() exists');

SELECT ok((SELECT calls >= 3 FROM session_manager.function_stats WHERE signature = 'session_manager.touch_session(text)'),
          'touch_session''s calls are counted');
SELECT ok((SELECT total_ms >= self_ms AND self_ms >= 0 AND mean_ms = total_ms / calls
           FROM session_manager.function_stats WHERE function_name = 'touch_session'),
          'with total, self and mean milliseconds that agree');
SELECT ok((SELECT calls >= 1 FROM session_manager.function_stats WHERE function_name = 'get_session_info'),
          'each function of the package has its own row');
SELECT is((SELECT count(*)::int FROM session_manager.function_stats f
           JOIN pg_stat_user_functions u ON u.funcid = f.signature::regprocedure
           WHERE u.schemaname = 'session_manager' AND f.calls = u.calls),
          (SELECT count(*)::int FROM pg_stat_user_functions WHERE schemaname = 'session_manager'),
          'one row per session_manager function in pg_stat_user_functions, with its figures');
SELECT is_empty($$SELECT 1 FROM session_manager.function_stats WHERE signature NOT LIKE 'session_manager.%'$$,
                'and no function of another schema');

-- pg_stat_statements: absent in this database until created (preloaded in the test cluster).
SELECT is(to_regclass('pg_stat_statements'), NULL, 'pg_stat_statements is not installed here');
SELECT is_empty($$SELECT * FROM session_manager.statement_stats()$$, 'without it, statement_stats() returns no rows and no error');
CREATE EXTENSION pg_stat_statements;
\ir fixtures/chat.sql
SELECT session_manager.touch_session('live');
SELECT ok((SELECT sum(calls) >= 1 FROM session_manager.statement_stats()
           WHERE query LIKE 'UPDATE public."conversationSessions" c%SET "lastActivity" = now()%' AND NOT toplevel),
          'with it, the UPDATE inside touch_session is listed as a nested statement');
SELECT ok((SELECT sum(calls) >= 1 FROM session_manager.statement_stats()
           WHERE query LIKE '%session_manager.touch_session(%' AND toplevel),
          'and so is the top-level call');
SELECT is_empty($$SELECT 1 FROM session_manager.statement_stats() WHERE query !~ 'session_manager\.|"conversationSessions"'$$,
                'every statement listed names session_manager or "conversationSessions"');
SELECT is((SELECT count(*) FROM session_manager.statement_stats()),
          (SELECT count(*) FROM pg_stat_statements s WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND s.query ~ 'session_manager\.|"conversationSessions"'),
          'all of this database''s statements on the package''s objects are listed');
SELECT ok((SELECT bool_and(mean_ms * calls BETWEEN total_ms * 0.999 AND total_ms * 1.001) FROM session_manager.statement_stats()),
          'with mean_ms = total_ms / calls');
SELECT * FROM finish();
ROLLBACK;
