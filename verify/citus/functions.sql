-- Verify pg-session-manager:citus/functions on pg
\ir ../../lib/citus_mode.sql
\if :citus_on
-- The nine functions that take a session_id and reach its messages are delegated by their session_id, co-located with the sessions.
SELECT 1 / (COUNT(*) = 9)::int FROM pg_catalog.pg_dist_object o
JOIN pg_catalog.pg_dist_partition p ON p.colocationid = o.colocationid
WHERE o.classid = 'pg_catalog.pg_proc'::regclass AND o.distribution_argument_index = 0
  AND p.logicalrelid = 'public."conversationSessions"'::regclass
  AND o.objid IN (SELECT f::regprocedure FROM unnest(ARRAY[
        'session_manager.touch_session(text)', 'session_manager.append_message(text,text,text,uuid,text,jsonb)',
        'session_manager.get_context(text,integer,text)', 'session_manager.get_session_info(text)',
        'session_manager.end_session(text)', 'session_manager.append_messages(text,jsonb)',
        'session_manager.pop_message(text)', 'session_manager.clear_messages(text)',
        'session_manager.trim_messages(text,integer,text)']) AS f);
SELECT 1 / (COUNT(*) = 10)::int FROM session_manager.citus_replaced_functions;
SELECT 'session_manager.next_message_id(text)'::regprocedure, 'session_manager.session_user_id(text)'::regprocedure;
SELECT 1 / COUNT(*) FROM pg_catalog.pg_proc
WHERE oid = 'session_manager.get_or_create_session(text,text,text,text)'::regprocedure AND prosrc LIKE '%active_chats%';
\endif
