-- Verify pg-session-manager:functions/append_message on pg
-- Raises (a missing function, a previous signature, or division by zero) unless the application may
-- call append_message and, except on Citus (where the deploy changes nothing), its body no longer calls
-- add_message_count on every message.
SELECT 1/pg_catalog.has_function_privilege('session_manager_app',
  'session_manager.append_message(text, text, text, uuid, text, jsonb)'::regprocedure, 'EXECUTE')::int;
SELECT 1/(pg_catalog.strpos(p.prosrc, 'session_manager.add_message_count(') = 0
          OR pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NOT NULL)::int
FROM pg_catalog.pg_proc p
WHERE p.oid = 'session_manager.append_message(text, text, text, uuid, text, jsonb)'::regprocedure;
