-- touch_session's UPDATE on bench_shape.sessions, a copy of the sessions table with a given
-- fillfactor and set of indexes (recreated by the run for each shape).
\set n random(1, :live)
UPDATE bench_shape.sessions c SET "lastActivity" = now()
WHERE c.id = :n AND c."isActive" AND c."lastActivity" >= now() - interval '1 day' AND c."lastActivity" < now() - interval '0';
