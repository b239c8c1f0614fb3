-- Verify pg-session-manager:functions/append_message on pg
-- Raises when the function is missing or is the previous version (a retry's lookup without the user scope).
SELECT 1/(pg_catalog.strpos(pg_catalog.pg_get_functiondef('session_manager.append_message(text, text, text, uuid)'::regprocedure),
                            'c.id = stored.session_id') > 0)::int;
