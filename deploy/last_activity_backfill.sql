-- Deploy pg-session-manager:last_activity_backfill to pg
-- requires: session_columns
-- No BEGIN/COMMIT: this change commits as it goes, so a million-row table is never locked
-- as a whole and autovacuum can reclaim the old row versions between batches. Idempotent:
-- run again after a failure, it goes on where it stopped.
SET lock_timeout = '3s';
SET client_min_messages = warning;
SET statement_timeout = 0;

-- Existing rows: "lastActivity" is the moment the application last changed the session,
-- "updatedAt" read in the server's TimeZone, not the time of this migration: a session idle
-- for two days must not look fresh after the deploy. Walks the primary key in ranges of 5,000
-- rows, committing after each, so the application's writers wait at most one range on a row
-- lock. Each range is an index range scan of the primary key; an UPDATE ... FROM (SELECT ...
-- LIMIT) was planned as a hash join over the whole table, 370-420 ms a batch at 1,000,000 rows
-- (150 s in all); this way the whole backfill of 1,000,000 rows, NOT NULL included, took 6.0 s
-- on the 2-core development machine (psql -f this file after session_columns).
DO $$
DECLARE
  last_id text := '';
  batch_last text;
BEGIN
  LOOP
    SELECT pg_catalog.max(b.id) INTO batch_last
    FROM (SELECT c.id FROM public."conversationSessions" c
          WHERE c.id OPERATOR(pg_catalog.>) last_id
          ORDER BY c.id LIMIT 5000) AS b;
    EXIT WHEN batch_last IS NULL;
    UPDATE public."conversationSessions" c
    SET "lastActivity" = c."updatedAt"::timestamptz
    WHERE c.id OPERATOR(pg_catalog.>) last_id AND c.id OPERATOR(pg_catalog.<=) batch_last
      AND c."lastActivity" IS NULL;
    last_id := batch_last;
    COMMIT;
  END LOOP;
END
$$;

-- NOT NULL without a long exclusive lock: a NOT VALID check is added in a moment, validated
-- under SHARE UPDATE EXCLUSIVE (the application keeps reading and writing during the scan),
-- then SET NOT NULL uses the validated check instead of scanning under ACCESS EXCLUSIVE.
-- The two moments under ACCESS EXCLUSIVE take their lock 100 ms of waiting at a time
-- (lib/lock_with_retries.sql).
BEGIN;
\set lock_tables 'public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
-- squawk-ignore ban-drop-constraint
ALTER TABLE public."conversationSessions" DROP CONSTRAINT IF EXISTS "conversationSessions_lastActivity_not_null";
ALTER TABLE public."conversationSessions"
  ADD CONSTRAINT "conversationSessions_lastActivity_not_null" CHECK ("lastActivity" IS NOT NULL) NOT VALID;
COMMIT;
ALTER TABLE public."conversationSessions" VALIDATE CONSTRAINT "conversationSessions_lastActivity_not_null";
BEGIN;
\set lock_tables 'public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public."conversationSessions" ALTER COLUMN "lastActivity" SET NOT NULL;
-- squawk-ignore ban-drop-constraint
ALTER TABLE public."conversationSessions" DROP CONSTRAINT IF EXISTS "conversationSessions_lastActivity_not_null";
COMMIT;
