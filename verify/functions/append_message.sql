-- Verify pg-session-manager:functions/append_message on pg
-- Raises (a missing function, a previous signature, or division by zero) unless the application may
-- call append_message, its body no longer calls add_message_count on every message, and on Citus it has
-- citus/functions' adaptation.
SELECT 1/pg_catalog.has_function_privilege('session_manager_app',
  'session_manager.append_message(text, text, text, uuid, text, jsonb)'::regprocedure, 'EXECUTE')::int;
SELECT 1/(pg_catalog.strpos(p.prosrc, 'session_manager.add_message_count(') = 0
          AND (pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NULL
               OR pg_catalog.strpos(p.prosrc, 'session_manager.next_message_id(') > 0))::int
FROM pg_catalog.pg_proc p
WHERE p.oid = 'session_manager.append_message(text, text, text, uuid, text, jsonb)'::regprocedure;
