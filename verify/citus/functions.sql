-- Verify pg-session-manager:citus/functions on pg
-- >>> citus_mode: the same block in each citus/* script that needs it (`sqitch bundle` copies only the
-- plan's scripts; tests/test_packaging.py keeps the copies identical).
-- sets the psql variable citus_on to true when this
-- database is a Citus coordinator the package distributes itself on, false otherwise (the
-- package then stays as on plain PostgreSQL and every citus/* change does nothing).
-- True when: the sqitch variable citus is not off (sqitch deploy --set citus=off), the citus
-- extension is in this database, this node is the coordinator (group 0) and at least one active
-- primary worker is registered (../shared/CONTRACT.md, "Citus").
\if :{?citus}
\else
\set citus on
\endif
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') AS citus_installed \gset
\if :citus_installed
SELECT :'citus' OPERATOR(pg_catalog.<>) 'off'
       AND pg_catalog.citus_is_coordinator()
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node n
                   WHERE n.groupid OPERATOR(pg_catalog.<>) 0 AND n.noderole OPERATOR(pg_catalog.=) 'primary'
                     AND n.isactive AND n.shouldhaveshards) AS citus_on \gset
\else
\set citus_on false
\endif
-- <<< citus_mode
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
