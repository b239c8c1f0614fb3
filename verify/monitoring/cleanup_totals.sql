-- Verify pg-session-manager:monitoring/cleanup_totals on pg
-- Exactly one counter row, or the division raises.
SELECT 1/(COUNT(*) = 1)::int FROM session_manager.cleanup_totals;
SELECT 1/COUNT(*) FROM pg_catalog.pg_trigger
WHERE tgrelid = 'session_manager.cleanup_runs'::pg_catalog.regclass AND tgname = 'cleanup_runs_count';
