-- Spring Session JDBC UPDATE_SESSION_QUERY (JdbcIndexedSessionRepository), as a request that only
-- changed the last access time issues it; times in epoch milliseconds, advanced by a per-client counter.
\set k :k + 1
\set n random(1, :live)
\set now :base_ms + :k
\set expiry :now + 1800000
UPDATE peer_spring.SPRING_SESSION SET SESSION_ID = :n, LAST_ACCESS_TIME = :now, MAX_INACTIVE_INTERVAL = 1800, EXPIRY_TIME = :expiry, PRINCIPAL_NAME = :n WHERE PRIMARY_ID = :n;
