-- Verify pg-session-manager:functions/append_messages on pg
-- Raises (a missing function, or division by zero) unless append_messages has the paired-brace pattern and
-- the stored message's answer to an element that fails its checks.
SELECT 1 / (pg_catalog.strpos(p.prosrc, '''^(\{[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$''') > 0
            AND pg_catalog.strpos(p.prosrc, 'EXCEPTION WHEN unique_violation OR no_data_found THEN') > 0)::int
FROM pg_catalog.pg_proc p WHERE p.oid = 'session_manager.append_messages(text, jsonb)'::pg_catalog.regprocedure;
