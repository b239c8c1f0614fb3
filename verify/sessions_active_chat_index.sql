-- Verify pg-session-manager:sessions_active_chat_index on pg
-- Fails when the index is missing (NULL regclass) or was left INVALID by an interrupted build.
SELECT 1/COUNT(*) FROM pg_catalog.pg_index
WHERE indexrelid = pg_catalog.to_regclass('public.conversation_sessions_one_active_chat') AND indisvalid AND indisready;
