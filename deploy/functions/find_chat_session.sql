-- Deploy pg-session-manager:functions/find_chat_session to pg
-- requires: functions/internals roles
-- For a framework reading a chat it may never have seen (agent-squad's fetch_chat): the chat's live
-- session, through the index of active sessions by (user, chat), and nothing created or touched.
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER so that user scoping, not the caller's table rights, decides what it sees.
CREATE FUNCTION session_manager.find_chat_session(user_id text, chat_id text)
RETURNS SETOF session_manager.session_info
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
BEGIN
  PERFORM session_manager.check_id(find_chat_session.user_id, 'user_id');
  PERFORM session_manager.check_id(find_chat_session.chat_id, 'chat_id');
  IF acting_user IS NOT NULL AND acting_user <> find_chat_session.user_id THEN
    RETURN;  -- another user's chats are unknown
  END IF;
  RETURN QUERY
    SELECT c.id, c."userId", c."chatId", c.agent, true, c."lastActivity",
           COALESCE((SELECT k.message_count FROM session_manager.session_message_counts k WHERE k.session_id = c.id), 0)
    FROM public."conversationSessions" c
    WHERE c."userId" = find_chat_session.user_id AND c."chatId" = find_chat_session.chat_id AND c."isActive"
      AND c."lastActivity" >= now() - (SELECT s.idle_timeout FROM session_manager.settings s);
END
$$;
COMMENT ON FUNCTION session_manager.find_chat_session(text, text) IS 'Returns the live session of the user''s chat as session_info, or no row; creates and touches nothing.';
REVOKE EXECUTE ON FUNCTION session_manager.find_chat_session(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_manager.find_chat_session(text, text) TO session_manager_app;
COMMIT;
