-- Verify pg-session-manager:citus/functions on pg
\ir ../../lib/citus_mode.sql
\if :citus_on
-- Every function of the package exists on every node, and none is delegated (see the deploy script).
SELECT 1 / (COUNT(*) = 0)::int FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'session_manager'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_object o WHERE o.classid = 'pg_catalog.pg_proc'::regclass AND o.objid = p.oid);
SELECT 1 / (COUNT(*) = 0)::int FROM pg_catalog.pg_dist_object o
JOIN pg_catalog.pg_proc p ON o.classid = 'pg_catalog.pg_proc'::regclass AND o.objid = p.oid
WHERE p.pronamespace = 'session_manager'::regnamespace AND o.distribution_argument_index IS NOT NULL;
SELECT 1 / (COUNT(*) = 10)::int FROM session_manager.citus_replaced_functions;
SELECT 'session_manager.next_message_id(text)'::regprocedure, 'session_manager.session_user_id(text)'::regprocedure;
SELECT 1 / COUNT(*) FROM pg_catalog.pg_proc
WHERE oid = 'session_manager.get_or_create_session(text,text,text,text)'::regprocedure AND prosrc LIKE '%active_chats%';
\endif
