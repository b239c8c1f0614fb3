-- Deploy pg-session-manager:session_fillfactor to pg
-- requires: session_columns
-- Every chat message touches its session. A touch stays a heap-only (HOT) update (no index
-- entry) only when the new row version fits on the same page: leave 15 % of each page free.
-- Measured (bench/results/report.md, "Table shape"): fillfactor 85 kept the HOT ratio at 1.00
-- with 0 bytes of heap or index growth; at 100 it fell to 0.956 and the heap grew 496 KiB and
-- the indexes 56 KiB over the same touches; 70 bought nothing more and costs 15 % more space.
-- Applies to pages written from now on; SHARE UPDATE EXCLUSIVE lock only.
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE public."conversationSessions" SET (fillfactor = 85);
COMMIT;
