-- Revert pg-session-manager:last_activity_backfill from pg
-- The backfilled values stay until session_columns' revert drops the column.
SET lock_timeout = '3s';
BEGIN;
\set lock_tables 'public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
ALTER TABLE public."conversationSessions" DROP CONSTRAINT IF EXISTS "conversationSessions_lastActivity_not_null";
ALTER TABLE public."conversationSessions" ALTER COLUMN "lastActivity" DROP NOT NULL;
COMMIT;
