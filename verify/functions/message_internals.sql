-- Verify pg-session-manager:functions/message_internals on pg
-- Raises (a missing function, or division by zero) unless add_message_count is the PL/pgSQL one and,
-- except on Citus (where the deploy changes nothing), stored_retry looks at the session named too.
SELECT 1 / (l.lanname = 'plpgsql')::int
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE p.oid = 'session_manager.add_message_count(text, integer)'::regprocedure;
SELECT 1 / (pg_catalog.strpos(p.prosrc, 'WHERE c.id = stored_retry.session_id AND c."userId" = stored_retry.acting_user') > 0
            OR pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NOT NULL)::int
FROM pg_catalog.pg_proc p
WHERE p.oid = 'session_manager.stored_retry(uuid, text, text, text, text, text, jsonb)'::regprocedure;
