-- Verify pg-session-manager:monitoring/statement_stats on pg
-- The cast raises when the function is missing; the call, when it fails without the extension.
SELECT 'session_manager.statement_stats()'::regprocedure;
SELECT queryid, toplevel, calls, total_ms, mean_ms, rows, shared_blks_hit, shared_blks_read, query
FROM session_manager.statement_stats() WHERE FALSE;
