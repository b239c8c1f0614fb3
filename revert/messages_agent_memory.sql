-- Revert pg-session-manager:messages_agent_memory from pg
-- Drops agent_id and metadata with their values. The old role CHECK comes back NOT VALID: messages
-- of the role tool stored meanwhile stay (deleting a user's history is not a revert's business),
-- and new ones are refused as before.
SET lock_timeout = '3s';
BEGIN;
\set lock_tables 'session_manager.messages'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
ALTER TABLE session_manager.messages
  DROP CONSTRAINT messages_metadata_object,
  DROP CONSTRAINT messages_role_valid,
  ADD CONSTRAINT messages_role_valid CHECK (role IN ('user', 'assistant', 'system')) NOT VALID,
  DROP COLUMN metadata,
  DROP COLUMN agent_id;
COMMIT;
