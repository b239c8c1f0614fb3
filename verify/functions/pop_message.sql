-- Verify pg-session-manager:functions/pop_message on pg
-- The cast raises when the function is missing.
SELECT 1/pg_catalog.has_function_privilege('session_manager_app',
  'session_manager.pop_message(text)'::regprocedure, 'EXECUTE')::int;
