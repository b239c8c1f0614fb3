-- Verify pg-session-manager:functions/purge_inactive_sessions on pg
-- Raises when the function is missing or is the previous version (without the overflow guard).
SELECT 1/(pg_catalog.strpos(pg_catalog.pg_get_functiondef('session_manager.purge_inactive_sessions(interval)'::regprocedure),
                            'datetime_field_overflow') > 0)::int;
