-- Verify pg-session-manager:monitoring/function_stats on pg
SELECT function_name, signature, calls, total_ms, self_ms, mean_ms FROM session_manager.function_stats WHERE FALSE;
