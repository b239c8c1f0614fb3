-- Verify pg-session-manager:functions/internals on pg
-- session_info_of takes the sessions' row type, or on Citus (citus/shard_keys) anyelement.
SELECT 'session_manager.raise_invalid(text, text, text)'::regprocedure,
       'session_manager.check_id(text, text)'::regprocedure,
       'session_manager.scoped_user()'::regprocedure,
       1 / (COALESCE(pg_catalog.to_regprocedure('session_manager.session_info_of(public."conversationSessions", interval)'),
                     pg_catalog.to_regprocedure('session_manager.session_info_of(anyelement, interval)')) IS NOT NULL)::int;
