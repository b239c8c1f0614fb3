-- connect-pg-simple PGStore.touch: UPDATE "session" SET expire = to_timestamp($1) WHERE sid = $2 RETURNING sid
-- $1 = now + maxAge in seconds; pgbench has no clock, so a per-client counter advances it (:k ms a touch).
\set k :k + 1
\set n random(1, :live)
\set exp :base + :k / 1000.0
UPDATE peer_cps."session" SET expire = to_timestamp(:exp) WHERE sid = :n RETURNING sid;
