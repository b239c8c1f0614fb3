-- Verify pg-session-manager:monitoring/health_check on pg
-- Eight checks, each with a known status, or the division raises.
SELECT 1/(COUNT(*) = 8)::int FROM session_manager.health_check()
WHERE status IN ('ok', 'warning', 'critical');
SELECT 'session_manager.health_level(numeric, numeric, numeric)'::regprocedure;
