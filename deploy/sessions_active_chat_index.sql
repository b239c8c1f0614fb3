-- Deploy pg-session-manager:sessions_active_chat_index to pg
-- requires: session_columns
-- At most one active session per user and chat (the contract), and the lookup of
-- get_or_create_session. Neither key nor predicate names "lastActivity", so touches stay HOT.
-- Built CONCURRENTLY so the application keeps writing during the build; hence no BEGIN/COMMIT.
-- Idempotent: an INVALID leftover of an interrupted build is dropped first.
SET lock_timeout = '3s';
SELECT pg_catalog.format('DROP INDEX CONCURRENTLY %s', i.indexrelid::regclass)
FROM pg_catalog.pg_index i
WHERE i.indexrelid = pg_catalog.to_regclass('public.conversation_sessions_one_active_chat') AND NOT i.indisvalid
\gexec
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS conversation_sessions_one_active_chat
  ON public."conversationSessions" ("userId", "chatId") WHERE "isActive" AND "chatId" IS NOT NULL;
