-- Deploy pg-session-manager:messages_agent_memory_validate to pg
-- requires: messages_agent_memory
-- VALIDATE CONSTRAINT scans the messages under SHARE UPDATE EXCLUSIVE only: appends, reads and
-- deletes go on meanwhile (only autovacuum and other DDL wait).
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.messages VALIDATE CONSTRAINT messages_role_valid;
ALTER TABLE session_manager.messages VALIDATE CONSTRAINT messages_metadata_object;
COMMIT;
