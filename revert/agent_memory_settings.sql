-- Revert pg-session-manager:agent_memory_settings from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings DROP COLUMN max_batch_messages, DROP COLUMN max_metadata_bytes;
COMMIT;
