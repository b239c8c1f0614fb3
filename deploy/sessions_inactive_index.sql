-- Deploy pg-session-manager:sessions_inactive_index to pg
-- requires: session_columns
-- Retention finds inactive sessions past the retention by "createdAt" (a session's activity
-- cannot precede its creation), walking only the inactive rows. "createdAt" and "isActive" do
-- not change on a touch, so touches stay HOT; an index on "lastActivity" would not.
-- Built CONCURRENTLY so the application keeps writing during the build; hence no BEGIN/COMMIT.
-- Idempotent: an INVALID leftover of an interrupted build is dropped first.
SET lock_timeout = '3s';
SELECT pg_catalog.format('DROP INDEX CONCURRENTLY %s', i.indexrelid::regclass)
FROM pg_catalog.pg_index i
WHERE i.indexrelid = pg_catalog.to_regclass('public.conversation_sessions_inactive_created') AND NOT i.indisvalid
\gexec
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversation_sessions_inactive_created
  ON public."conversationSessions" ("createdAt") WHERE NOT "isActive";
