-- Revert pg-session-manager:messages from pg
-- The package's own tables are locked first: if autovacuum is working on one of them (after a
-- million appends it is), the wait for it to cancel itself (deadlock_timeout, 1 s) happens before
-- this transaction holds any lock on "conversationSessions", so the application is not queued
-- behind it. Dropping the foreign keys then locks "conversationSessions" only for the drop itself.
SET lock_timeout = '3s';
BEGIN;
LOCK TABLE session_manager.messages, session_manager.session_message_counts IN ACCESS EXCLUSIVE MODE;
DROP TABLE session_manager.session_message_counts;
DROP TABLE session_manager.messages;
COMMIT;
