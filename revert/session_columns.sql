-- Revert pg-session-manager:session_columns from pg
-- DROP COLUMN only marks the columns dropped in the catalog: no rewrite.
SET lock_timeout = '3s';
BEGIN;
\set lock_tables 'public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
ALTER TABLE public."conversationSessions"
  DROP COLUMN "chatId",
  DROP COLUMN "isActive",
  DROP COLUMN "lastActivity";
COMMIT;
