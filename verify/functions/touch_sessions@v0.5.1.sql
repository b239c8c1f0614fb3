-- Verify pg-session-manager:functions/touch_sessions on pg
-- The cast raises when the function is missing; the division when it is the previous version
-- (which had a SET search_path clause).
SELECT 1/(proconfig IS NULL)::int FROM pg_catalog.pg_proc WHERE oid = 'session_manager.touch_sessions(text[])'::regprocedure;
