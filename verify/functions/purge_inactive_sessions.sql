-- Verify pg-session-manager:functions/purge_inactive_sessions on pg
-- Raises when the function is missing or is a previous version (without the overflow guard, or
-- without the check of the interval's parts).
SELECT 1/(pg_catalog.strpos(pg_catalog.pg_get_functiondef('session_manager.purge_inactive_sessions(interval)'::regprocedure),
                            'datetime_field_overflow') > 0)::int;
SELECT 1/(pg_catalog.strpos(pg_catalog.pg_get_functiondef('session_manager.purge_inactive_sessions(interval)'::regprocedure),
                            'interval_has_negative_part') > 0)::int;
