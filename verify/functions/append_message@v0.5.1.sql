-- Verify pg-session-manager:functions/append_message on pg
-- The cast raises when the function is missing or is a previous version (another signature).
SELECT 1/pg_catalog.has_function_privilege('session_manager_app',
  'session_manager.append_message(text, text, text, uuid, text, jsonb)'::regprocedure, 'EXECUTE')::int;
