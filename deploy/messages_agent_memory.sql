-- Deploy pg-session-manager:messages_agent_memory to pg
-- requires: messages
-- Messages carry what agent frameworks store: agent_id, the agent that wrote the message (NULL for
-- one written without an agent, as the user's usually are), and metadata, the framework's fields
-- the package does not interpret (tool calls, names, content blocks, the framework's own ids), a
-- JSON object; and the role tool. Nullable columns without a default: no rewrite of the table.
-- The CHECKs are added NOT VALID, so that no scan of the messages runs under the ACCESS EXCLUSIVE
-- lock (append_message and get_context queue behind it); messages_agent_memory_validate validates
-- them under SHARE UPDATE EXCLUSIVE, which appends do not wait for. The lock is taken 100 ms of
-- waiting at a time (lib/lock_with_retries.sql).
-- Keys stay as they were (id, the ordering identity; message_id, unique): nothing new to distribute.
SET lock_timeout = '3s';
BEGIN;
\set lock_tables 'session_manager.messages'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
ALTER TABLE session_manager.messages
  ADD COLUMN agent_id text,
  ADD COLUMN metadata jsonb,
  -- Replaced at once by a looser one (one more role): no guarantee is lost.
  -- squawk-ignore ban-drop-constraint
  DROP CONSTRAINT messages_role_valid,
  ADD CONSTRAINT messages_role_valid CHECK (role IN ('user', 'assistant', 'system', 'tool')) NOT VALID,
  ADD CONSTRAINT messages_metadata_object CHECK (pg_catalog.jsonb_typeof(metadata) = 'object') NOT VALID;
COMMENT ON COLUMN session_manager.messages.agent_id IS 'The agent that wrote the message (one of settings.agents when stored), NULL when none.';
COMMENT ON COLUMN session_manager.messages.metadata IS 'A JSON object of the agent framework''s own fields (tool calls, names, content blocks, its ids), NULL when none; not interpreted by the package.';
COMMIT;
