-- Deploy pg-session-manager:message_type_agent_memory to pg
-- requires: types
-- The new fields go at the end, so a caller naming the old five columns reads them unchanged.
-- append_message and get_context return the new shape from their reworks, the changes after this
-- one; between the two commits of one sqitch deploy their old versions fail (42846, 42804), so deploy 0.5
-- when a moment of failed appends is acceptable, or with the application's retries on.
SET lock_timeout = '3s';
BEGIN;
ALTER TYPE session_manager.message
  ADD ATTRIBUTE agent_id text,
  ADD ATTRIBUTE metadata jsonb;
COMMENT ON TYPE session_manager.message IS 'One chat message as the functions return it: agent_id is the agent that wrote it (NULL when none), metadata the framework''s fields (NULL when none).';
COMMIT;
