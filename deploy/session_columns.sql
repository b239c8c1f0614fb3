-- Deploy pg-session-manager:session_columns to pg
-- requires: app_tables_check
-- Three columns, none of which rewrites the table: "isActive" has a constant default (stored in
-- the catalog since PostgreSQL 11), "chatId" and "lastActivity" are nullable here.
-- "lastActivity" gets its value for existing rows from "updatedAt" in last_activity_backfill,
-- and becomes NOT NULL there; its DEFAULT applies to rows inserted from now on.
-- ALTER TABLE takes ACCESS EXCLUSIVE for a moment: lib/lock_with_retries.sql takes it waiting
-- 100 ms at a time, so the application's queries are never queued behind us for longer.
SET lock_timeout = '3s';
BEGIN;
\set lock_tables 'public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
ALTER TABLE public."conversationSessions"
  ADD COLUMN "lastActivity" timestamptz,
  ADD COLUMN "isActive" boolean NOT NULL DEFAULT true,
  ADD COLUMN "chatId" text;
ALTER TABLE public."conversationSessions" ALTER COLUMN "lastActivity" SET DEFAULT pg_catalog.now();
COMMENT ON COLUMN public."conversationSessions"."lastActivity" IS 'pg-session-manager: last time the session was used; never moves backwards.';
COMMENT ON COLUMN public."conversationSessions"."isActive" IS 'pg-session-manager: false once the session was ended or cleaned up (soft delete).';
COMMENT ON COLUMN public."conversationSessions"."chatId" IS 'pg-session-manager: the chat (e.g. WhatsApp JID) the session belongs to; at most one active session per user and chat.';
COMMIT;
