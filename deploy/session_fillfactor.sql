-- Deploy pg-session-manager:session_fillfactor to pg
-- requires: session_columns
-- Every chat message touches its session. A touch stays a heap-only (HOT) update (no index
-- entry, about half the WAL) only when the new row version fits on the same page: leave 15 %
-- of each page free. Applies to pages written from now on; SHARE UPDATE EXCLUSIVE lock only.
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE public."conversationSessions" SET (fillfactor = 85);
COMMIT;
