-- Verify pg-session-manager:functions/message_internals on pg
-- Raises (a missing function, or division by zero) unless add_message_count is the PL/pgSQL one.
SELECT 1 / (l.lanname = 'plpgsql')::int
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE p.oid = 'session_manager.add_message_count(text, integer)'::regprocedure;
