-- Verify pg-session-manager:functions/append_messages on pg
-- The cast raises when the function is missing.
SELECT 1/pg_catalog.has_function_privilege('session_manager_app',
  'session_manager.append_messages(text, jsonb)'::regprocedure, 'EXECUTE')::int;
