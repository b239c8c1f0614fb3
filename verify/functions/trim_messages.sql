-- Verify pg-session-manager:functions/trim_messages on pg
-- The cast raises when the function is missing.
SELECT 1/pg_catalog.has_function_privilege('session_manager_app',
  'session_manager.trim_messages(text, integer, text)'::regprocedure, 'EXECUTE')::int;
