-- The raw UPDATE on the sessions table itself (its indexes, its foreign keys): like with like for a
-- function that updates that table.
\set n random(1, :live)
UPDATE public."conversationSessions" SET "lastActivity" = now() WHERE id = :n;
