-- Deploy pg-session-manager:messages to pg
-- requires: schema session_columns
-- The REFERENCES take a SHARE ROW EXCLUSIVE lock on "conversationSessions" for a moment, taken
-- 100 ms of waiting at a time (lib/lock_with_retries.sql).
SET lock_timeout = '3s';
BEGIN;
\set lock_tables 'public."conversationSessions"'
\set lock_mode 'SHARE ROW EXCLUSIVE'
\ir ../lib/lock_with_retries.sql
CREATE TABLE session_manager.messages (
  -- Orders a session's messages: the messages of one transaction share now().
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id uuid NOT NULL CONSTRAINT messages_message_id_key UNIQUE,
  session_id text NOT NULL REFERENCES public."conversationSessions"(id) ON DELETE CASCADE,
  role text NOT NULL CONSTRAINT messages_role_valid CHECK (role IN ('user', 'assistant', 'system')),
  content text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
-- get_context reads the last N of one session backwards along this index: its cost does not
-- grow with the session's history.
CREATE INDEX messages_session_id_id ON session_manager.messages (session_id, id);
COMMENT ON TABLE session_manager.messages IS 'Chat messages of the sessions in public."conversationSessions"; removed with their session.';

-- The message count of session_info, read in constant time: one row per session with messages,
-- kept by append_message in the same transaction as the message.
CREATE TABLE session_manager.session_message_counts (
  session_id text PRIMARY KEY REFERENCES public."conversationSessions"(id) ON DELETE CASCADE,
  message_count integer NOT NULL CONSTRAINT session_message_counts_not_negative CHECK (message_count >= 0)
);
COMMENT ON TABLE session_manager.session_message_counts IS 'How many messages each session holds, kept by append_message (constant-time message_count).';
COMMIT;
