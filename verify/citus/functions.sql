-- Verify pg-session-manager:citus/functions on pg
\ir ../../lib/citus_mode.sql
\if :citus_on
-- The five hot-path functions are delegated by their session_id, co-located with the sessions.
SELECT 1 / (COUNT(*) = 5)::int FROM pg_catalog.pg_dist_object o
JOIN pg_catalog.pg_dist_partition p ON p.colocationid = o.colocationid
WHERE o.classid = 'pg_catalog.pg_proc'::regclass AND o.distribution_argument_index = 0
  AND p.logicalrelid = 'public."conversationSessions"'::regclass
  AND o.objid IN ('session_manager.touch_session(text)'::regprocedure, 'session_manager.append_message(text,text,text,uuid)'::regprocedure,
                  'session_manager.get_context(text,integer)'::regprocedure, 'session_manager.get_session_info(text)'::regprocedure,
                  'session_manager.end_session(text)'::regprocedure);
SELECT 1 / (COUNT(*) = 7)::int FROM session_manager.citus_replaced_functions;
SELECT 1 / COUNT(*) FROM pg_catalog.pg_proc
WHERE oid = 'session_manager.get_or_create_session(text,text,text,text)'::regprocedure AND prosrc LIKE '%active_chats%';
\endif
