-- Verify pg-session-manager:cleanup_batch_index_scan on pg
SELECT 1/COUNT(*) FROM pg_catalog.pg_proc
WHERE oid = 'session_manager.deactivate_idle_batch(interval, integer, text)'::regprocedure
  AND 'enable_seqscan=off' = ANY (proconfig);
