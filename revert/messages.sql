-- Revert pg-session-manager:messages from pg
-- Dropping the foreign keys takes ACCESS EXCLUSIVE on "conversationSessions". All three tables are
-- locked together, 100 ms of waiting at a time (lib/lock_with_retries.sql): after a million appends
-- autovacuum is working on the messages, and a lock held on "conversationSessions" while waiting
-- for it (it gives way only after deadlock_timeout, 1 s) queued the application that long.
SET lock_timeout = '3s';
BEGIN;
\set lock_tables 'session_manager.messages, session_manager.session_message_counts, public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
DROP TABLE session_manager.session_message_counts;
DROP TABLE session_manager.messages;
COMMIT;
