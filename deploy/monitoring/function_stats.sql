-- Deploy pg-session-manager:monitoring/function_stats to pg
-- requires: schema
-- Per-function timings of the package, from pg_stat_user_functions (cumulative since the
-- statistics were last reset; needs track_functions = pl or all). Times in milliseconds, as
-- PostgreSQL's own statistics give them; an exporter turns total_ms into a seconds counter.
SET lock_timeout = '3s';
BEGIN;
CREATE VIEW session_manager.function_stats AS
SELECT f.funcname::text COLLATE "default" AS function_name,
       f.funcid::pg_catalog.regprocedure::text AS signature,
       f.calls,
       f.total_time AS total_ms,
       f.self_time AS self_ms,
       f.total_time / NULLIF(f.calls, 0) AS mean_ms
FROM pg_catalog.pg_stat_user_functions f
WHERE f.schemaname = 'session_manager';
COMMENT ON VIEW session_manager.function_stats IS 'Calls and total, self and mean time (ms) of each session_manager function since statistics were reset (track_functions must be pl or all).';
COMMIT;
