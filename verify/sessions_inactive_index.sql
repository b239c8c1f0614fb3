-- Verify pg-session-manager:sessions_inactive_index on pg
-- Fails when the index is missing (NULL regclass) or was left INVALID by an interrupted build.
SELECT 1/COUNT(*) FROM pg_catalog.pg_index
WHERE indexrelid = pg_catalog.to_regclass('public.conversation_sessions_inactive_created') AND indisvalid AND indisready;
