-- Revert pg-session-manager:row_level_security from pg
SET lock_timeout = '3s';
BEGIN;
\set lock_tables 'session_manager.messages, public."conversationSessions"'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
DROP POLICY session_manager_app_own_messages ON session_manager.messages;
DROP POLICY session_manager_app_own_sessions ON public."conversationSessions";
ALTER TABLE session_manager.messages DISABLE ROW LEVEL SECURITY;
ALTER TABLE public."conversationSessions" DISABLE ROW LEVEL SECURITY;
COMMIT;
