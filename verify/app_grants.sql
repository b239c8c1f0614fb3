-- Verify pg-session-manager:app_grants on pg
SELECT 1/pg_catalog.has_function_privilege('session_manager_app', 'session_manager.touch_session(text)', 'EXECUTE')::int;
-- append_message by name: its signature grew in 0.5 (functions/append_message reworked), and this
-- script verifies every later deploy too.
SELECT 1/COUNT(*) FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'session_manager'::regnamespace AND p.proname = 'append_message'
  AND pg_catalog.has_function_privilege('session_manager_app', p.oid, 'EXECUTE');
SELECT 1/pg_catalog.has_table_privilege('session_manager_app', 'session_manager.messages', 'SELECT')::int;
SELECT 1/(NOT pg_catalog.has_table_privilege('session_manager_app', 'public."conversationSessions"', 'INSERT,UPDATE,DELETE'))::int;
