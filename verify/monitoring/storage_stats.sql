-- Verify pg-session-manager:monitoring/storage_stats on pg
-- "conversationSessions" is among its rows, or the division raises.
SELECT 1/COUNT(*) FROM session_manager.storage_stats
WHERE schema_name = 'public' AND table_name = 'conversationSessions'
  AND table_bytes IS NOT NULL AND index_bytes IS NOT NULL AND toast_bytes IS NOT NULL;
