-- Deploy pg-session-manager:messages_session_agent_index to pg
-- requires: messages_agent_memory
-- get_context with an agent returns the last N of that agent's messages and of those with no agent:
-- two backward walks of this index, merged (Merge Append), N entries each, whatever the history.
-- COALESCE(agent_id, '') rather than agent_id: PostgreSQL 15 uses "agent_id IS NULL" as an index
-- condition but not for the index's order, so the no-agent half walked the whole session through
-- the primary key instead (EXPLAIN ANALYZE, 200,000 messages: 7,475 rows removed by the filter for 25
-- returned, 1.2 ms; through this index 0.04 ms). An agent id is never '' (settings.agents refuses it).
-- Key (session_id, ..., id): it leads with session_id, as every key of the messages must for their
-- distribution by session. Built CONCURRENTLY so appends go on; hence no BEGIN/COMMIT. Idempotent:
-- an INVALID leftover of an interrupted build is dropped first.
SET lock_timeout = '3s';
SELECT pg_catalog.format('DROP INDEX CONCURRENTLY %s', i.indexrelid::regclass)
FROM pg_catalog.pg_index i
WHERE i.indexrelid = pg_catalog.to_regclass('session_manager.messages_session_agent_id') AND NOT i.indisvalid
\gexec
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_session_agent_id
  ON session_manager.messages (session_id, (COALESCE(agent_id, '')), id);
