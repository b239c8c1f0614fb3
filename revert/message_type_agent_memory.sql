-- Revert pg-session-manager:message_type_agent_memory from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TYPE session_manager.message DROP ATTRIBUTE metadata, DROP ATTRIBUTE agent_id;
COMMENT ON TYPE session_manager.message IS 'One chat message as the functions return it.';
COMMIT;
