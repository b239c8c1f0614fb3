-- Verify pg-session-manager:functions/find_chat_session on pg
-- The cast raises when the function is missing.
SELECT 1/pg_catalog.has_function_privilege('session_manager_app',
  'session_manager.find_chat_session(text, text)'::regprocedure, 'EXECUTE')::int;
