-- Verify pg-session-manager:session_fillfactor on pg
SELECT 1/COUNT(*) FROM pg_catalog.pg_class
WHERE oid = 'public."conversationSessions"'::regclass AND 'fillfactor=85' = ANY (reloptions);
