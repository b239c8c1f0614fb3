-- Deploy pg-session-manager:functions/get_context to pg
-- requires: functions/get_context@v0.4.1 message_type_agent_memory messages_session_agent_index roles
-- Reworked for agent memory: the message's agent_id and metadata, and the agent_id filter. The
-- signature changes, so the old one is dropped and its grant made anew; a call with the old two
-- arguments resolves to this one through the default.
SET lock_timeout = '3s';
BEGIN;
-- squawk-ignore ban-drop-function
DROP FUNCTION session_manager.get_context(text, integer);

-- SECURITY DEFINER so that user scoping, not the caller's table rights, decides what it sees.
CREATE FUNCTION session_manager.get_context(session_id text, max_messages integer DEFAULT NULL, agent_id text DEFAULT NULL)
RETURNS SETOF session_manager.message
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  wanted integer;
BEGIN
  PERFORM session_manager.check_id(get_context.session_id, 'session_id');
  IF get_context.max_messages <= 0 THEN
    PERFORM session_manager.raise_invalid('22023', format('max_messages must be positive, got %s', get_context.max_messages),
      'Pass a positive number, or NULL for the context_messages setting.');
  ELSIF get_context.agent_id = '' THEN
    PERFORM session_manager.raise_invalid('22023', 'agent_id must not be empty',
      'Pass the agent whose context to read, or NULL for every message of the session.');
  END IF;
  SELECT COALESCE(get_context.max_messages, s.context_messages) INTO wanted FROM session_manager.settings s;
  IF acting_user IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM public."conversationSessions" c WHERE c.id = get_context.session_id AND c."userId" = acting_user) THEN
    RETURN;
  END IF;
  IF get_context.agent_id IS NULL THEN
    -- The last N walk the (session_id, id) index backwards: the cost does not grow with history.
    RETURN QUERY
      SELECT last.message_id, last.session_id, last.role, last.content, last.created_at, last.agent_id, last.metadata
      FROM (SELECT m.* FROM session_manager.messages m
            WHERE m.session_id = get_context.session_id
            ORDER BY m.id DESC LIMIT wanted) AS last
      ORDER BY last.id;
  ELSE
    -- The agent's last N and the last N with no agent, each a backward walk of
    -- messages_session_agent_id, merged and cut to N: at most 2N index entries, whatever the
    -- history and however the agents' messages interleave (that index's comment has the figures).
    RETURN QUERY
      SELECT last.message_id, last.session_id, last.role, last.content, last.created_at, last.agent_id, last.metadata
      FROM ((SELECT m.* FROM session_manager.messages m
             WHERE m.session_id = get_context.session_id AND COALESCE(m.agent_id, '') = get_context.agent_id
             ORDER BY m.id DESC LIMIT wanted)
            UNION ALL
            (SELECT m.* FROM session_manager.messages m
             WHERE m.session_id = get_context.session_id AND COALESCE(m.agent_id, '') = ''
             ORDER BY m.id DESC LIMIT wanted)
            ORDER BY id DESC LIMIT wanted) AS last
      ORDER BY last.id;
  END IF;
END
$$;
COMMENT ON FUNCTION session_manager.get_context(text, integer, text) IS 'Returns the last max_messages (NULL: context_messages) messages of a session, oldest first; with agent_id, only that agent''s messages and those with no agent; no rows for an unknown session.';
REVOKE EXECUTE ON FUNCTION session_manager.get_context(text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_manager.get_context(text, integer, text) TO session_manager_app;
COMMIT;
