-- Verify pg-session-manager:last_activity_backfill on pg
SELECT 1/COUNT(*) FROM pg_catalog.pg_attribute
WHERE attrelid = 'public."conversationSessions"'::regclass AND attname = 'lastActivity' AND attnotnull;
