-- Verify pg-session-manager:functions/get_context on pg
-- The cast raises when the function is missing or is a previous version (another signature).
SELECT 1/pg_catalog.has_function_privilege('session_manager_app',
  'session_manager.get_context(text, integer, text)'::regprocedure, 'EXECUTE')::int;
