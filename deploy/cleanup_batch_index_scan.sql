-- Deploy pg-session-manager:cleanup_batch_index_scan to pg
-- requires: functions/cleanup_old_sessions
-- The batch's "isActive AND lastActivity < cutoff" looks selective to the planner whatever the
-- data, so with a large history it chose a sequential scan of the whole table for every batch,
-- even for a run with nothing to clean: 209 ms at 3,100,000 rows (100,000 active), 1,794 ms at
-- 10,000,000 (bench/results/report.md, "Growth"), every minute. Through the active-sessions
-- index the same empty batch took 11 ms at 3,100,000 rows (EXPLAIN ANALYZE, 2-core development
-- machine). Only this function's planning is steered; nothing else changes.
SET lock_timeout = '3s';
BEGIN;
ALTER FUNCTION session_manager.deactivate_idle_batch(interval, integer, text) SET enable_seqscan = off;
COMMIT;
