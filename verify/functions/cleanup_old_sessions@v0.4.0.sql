-- Verify pg-session-manager:functions/cleanup_old_sessions on pg
-- The casts raise when a function is missing; the division when the body does not record runs.
SELECT 'session_manager.deactivate_idle_batch(interval, integer, text)'::regprocedure;
SELECT 1/COUNT(*) FROM pg_catalog.pg_proc
WHERE oid = 'session_manager.cleanup_old_sessions(interval)'::regprocedure
  AND prosrc LIKE '%session_manager.record_cleanup_run(%';
