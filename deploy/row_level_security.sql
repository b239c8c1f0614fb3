-- Deploy pg-session-manager:row_level_security to pg
-- requires: app_grants messages
-- A member of session_manager_app sees only the rows of the user in session_manager.user_id
-- (none when it is unset). The policies name only the package's role; the tables' owner (the
-- application, and the package's SECURITY DEFINER functions, which run as the owner) bypasses
-- RLS as before. Note: any other non-owner role that reads "conversationSessions" directly
-- sees no rows once RLS is on (see README, "Row Level Security").
-- ENABLE ROW LEVEL SECURITY takes ACCESS EXCLUSIVE on both tables for a moment, taken 100 ms of
-- waiting at a time (lib/lock_with_retries.sql).
SET lock_timeout = '3s';
BEGIN;
\set lock_tables 'public."conversationSessions", session_manager.messages'
\set lock_mode 'ACCESS EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
ALTER TABLE public."conversationSessions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE session_manager.messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY session_manager_app_own_sessions ON public."conversationSessions"
  FOR SELECT TO session_manager_app
  USING ("userId" OPERATOR(pg_catalog.=) NULLIF(pg_catalog.current_setting('session_manager.user_id', true), ''));
CREATE POLICY session_manager_app_own_messages ON session_manager.messages
  FOR SELECT TO session_manager_app
  USING (EXISTS (SELECT 1 FROM public."conversationSessions" c
                 WHERE c.id OPERATOR(pg_catalog.=) messages.session_id
                   AND c."userId" OPERATOR(pg_catalog.=) NULLIF(pg_catalog.current_setting('session_manager.user_id', true), '')));
COMMIT;
