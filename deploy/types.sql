-- Deploy pg-session-manager:types to pg
-- requires: schema
SET lock_timeout = '3s';
BEGIN;
CREATE TYPE session_manager.session_info AS (
  session_id text,
  user_id text,
  chat_id text,
  agent_id text,
  is_active boolean,
  last_activity timestamptz,
  message_count integer
);
COMMENT ON TYPE session_manager.session_info IS 'A session as the functions report it: is_active is true only while the session is live.';
CREATE TYPE session_manager.message AS (
  message_id uuid,
  session_id text,
  role text,
  content text,
  created_at timestamptz
);
COMMENT ON TYPE session_manager.message IS 'One chat message as the functions return it.';
COMMIT;
