-- The limit: a prepared single-row UPDATE on a copy of the sessions with only its primary key.
\set n random(1, :live)
UPDATE bench.raw_sessions SET "lastActivity" = now() WHERE id = :n;
