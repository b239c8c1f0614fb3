-- Deploy pg-session-manager:sessions_user_index to pg
-- requires: session_columns
-- A user's whole history (list_user_sessions with include_inactive) and the ON DELETE CASCADE
-- from "user" (without it, deleting one user scans every session).
-- Built CONCURRENTLY so the application keeps writing during the build; hence no BEGIN/COMMIT.
-- Idempotent: an INVALID leftover of an interrupted build is dropped first.
SET lock_timeout = '3s';
SELECT pg_catalog.format('DROP INDEX CONCURRENTLY %s', i.indexrelid::regclass)
FROM pg_catalog.pg_index i
WHERE i.indexrelid = pg_catalog.to_regclass('public.conversation_sessions_user') AND NOT i.indisvalid
\gexec
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversation_sessions_user
  ON public."conversationSessions" ("userId");
