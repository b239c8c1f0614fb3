-- Verify pg-session-manager:functions/touch_sessions on pg
-- Raises (a missing function, or division by zero) unless touch_sessions checks the array's dimensions.
SELECT 1 / (pg_catalog.strpos(p.prosrc, 'pg_catalog.array_ndims(touch_sessions.session_ids)') > 0)::int
FROM pg_catalog.pg_proc p WHERE p.oid = 'session_manager.touch_sessions(text[])'::pg_catalog.regprocedure;
