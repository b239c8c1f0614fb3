-- Revert pg-session-manager:messages_session_agent_index from pg
SET lock_timeout = '3s';
DROP INDEX CONCURRENTLY IF EXISTS session_manager.messages_session_agent_id;
