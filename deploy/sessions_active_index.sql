-- Deploy pg-session-manager:sessions_active_index to pg
-- requires: session_columns
-- Cleanup and list_user_sessions read only the active sessions, never the history of
-- inactive ones: this index holds the active rows alone. It deliberately leaves out
-- "lastActivity": an index whose key or predicate names it makes every touch a non-HOT
-- update (bench/results/report.md, "Table shape": with one more index on "lastActivity" the HOT
-- ratio fell from 1.00 to 0.00, WAL per touch rose from 183 to 582 bytes and the index grew
-- 2.9 MiB over the same touches, while the package's indexes grew 0 bytes; two runs agree).
-- Built CONCURRENTLY so the application keeps writing during the build; hence no BEGIN/COMMIT.
-- Idempotent: an INVALID leftover of an interrupted build is dropped first.
SET lock_timeout = '3s';
SELECT pg_catalog.format('DROP INDEX CONCURRENTLY %s', i.indexrelid::regclass)
FROM pg_catalog.pg_index i
WHERE i.indexrelid = pg_catalog.to_regclass('public.conversation_sessions_active_user') AND NOT i.indisvalid
\gexec
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversation_sessions_active_user
  ON public."conversationSessions" ("userId") WHERE "isActive";
