-- Roles: session_manager_app calls the session functions and reads; it writes no table directly.
BEGIN;
SELECT plan(18);
SELECT has_role('session_manager_app', 'the application role exists');
SELECT has_role('session_manager_monitor', 'the monitoring role exists');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'session_manager_app'), false, 'the app role is a NOLOGIN group role');

SELECT is_empty($$
  SELECT p.oid::regprocedure FROM pg_proc p
  WHERE p.pronamespace = 'session_manager'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
  'PUBLIC may execute no function of the package');
-- The two hot-path functions qualify every name instead (cheaper per call); 120 proves them.
SELECT is_empty($$
  SELECT p.oid::regprocedure FROM pg_proc p
  WHERE p.pronamespace = 'session_manager'::regnamespace AND p.prosecdef
    AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c LIKE 'search_path=%')
    AND p.oid NOT IN ('session_manager.touch_session(text)'::regprocedure, 'session_manager.touch_sessions(text[])'::regprocedure)$$,
  'every other SECURITY DEFINER function pins its search_path');
SELECT is_empty($$
  SELECT p.oid::regprocedure FROM pg_proc p
  WHERE p.pronamespace = 'session_manager'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL$$,
  'every function and procedure has a COMMENT stating its contract');

SELECT ok(has_function_privilege('session_manager_app', 'session_manager.touch_session(text)', 'EXECUTE'), 'the app role may touch');
SELECT ok(has_function_privilege('session_manager_app', 'session_manager.get_or_create_session(text, text, text, text)', 'EXECUTE'), 'the app role may get or create');
SELECT ok(has_function_privilege('session_manager_app', 'session_manager.append_message(text, text, text, uuid, text, jsonb)', 'EXECUTE'), 'the app role may append');
SELECT ok(NOT has_function_privilege('session_manager_app', 'session_manager.purge_inactive_sessions(interval)', 'EXECUTE'), 'the app role may not purge history');
SELECT ok(NOT has_function_privilege('session_manager_app', 'session_manager.run_cleanup_job()', 'EXECUTE'), 'the app role may not run the job procedure');
SELECT ok(NOT has_function_privilege('session_manager_app', 'session_manager.deactivate_idle_batch(interval, integer, text)', 'EXECUTE'), 'nor the internal helpers');

\ir fixtures/chat.sql
SET LOCAL ROLE session_manager_app;
SELECT set_config('session_manager.user_id', 'u1', true);
SELECT is(session_manager.touch_session('live'), true, 'as the app role, a touch works through the function');
SELECT throws_ok($$UPDATE public."conversationSessions" SET "lastActivity" = now()$$, '42501', NULL, 'but a direct UPDATE is refused');
SELECT throws_ok($$INSERT INTO session_manager.messages (message_id, session_id, role, content) VALUES (gen_random_uuid(), 'live', 'user', 'x')$$,
                 '42501', NULL, 'a direct INSERT of a message is refused');
SELECT throws_ok($$DELETE FROM public."conversationSessions"$$, '42501', NULL, 'a direct DELETE is refused');
SELECT throws_ok($$UPDATE session_manager.settings SET idle_timeout = '1 minute'$$, '42501', NULL, 'the settings cannot be changed');
SELECT throws_ok($$SELECT session_manager.purge_inactive_sessions()$$, '42501', NULL, 'purging is refused');
RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
