-- Revert pg-session-manager:messages from pg
SET lock_timeout = '3s';
BEGIN;
DROP TABLE session_manager.session_message_counts;
DROP TABLE session_manager.messages;
COMMIT;
