-- Verify pg-session-manager:app_grants on pg
SELECT 1/pg_catalog.has_function_privilege('session_manager_app', 'session_manager.touch_session(text)', 'EXECUTE')::int;
SELECT 1/pg_catalog.has_function_privilege('session_manager_app', 'session_manager.append_message(text, text, text, uuid)', 'EXECUTE')::int;
SELECT 1/pg_catalog.has_table_privilege('session_manager_app', 'session_manager.messages', 'SELECT')::int;
SELECT 1/(NOT pg_catalog.has_table_privilege('session_manager_app', 'public."conversationSessions"', 'INSERT,UPDATE,DELETE'))::int;
