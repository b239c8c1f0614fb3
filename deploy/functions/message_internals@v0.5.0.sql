-- Deploy pg-session-manager:functions/message_internals to pg
-- requires: functions/internals agent_memory_settings messages_agent_memory message_type_agent_memory
-- Helpers shared by append_message, append_messages, pop_message, clear_messages and
-- trim_messages. Not granted to anyone: the public functions call them with the owner's rights.
-- None takes a table's row type as an argument (a distributed table's row type in a signature
-- ties the function to it).
SET lock_timeout = '3s';
BEGIN;

CREATE FUNCTION session_manager.check_message(role text, content text, agent_id text, metadata jsonb,
                                              max_content_length integer, max_metadata_bytes integer,
                                              agents text[], label text)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  metadata_bytes integer;
BEGIN
  IF check_message.role IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', label || 'role must not be NULL', 'Pass user, assistant, system or tool.');
  ELSIF check_message.role NOT IN ('user', 'assistant', 'system', 'tool') THEN
    PERFORM session_manager.raise_invalid('22023', label || format('role %L is not allowed', check_message.role),
                                          'Pass user, assistant, system or tool.');
  ELSIF check_message.content IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', label || 'content must not be NULL',
                                          'Pass the message text ('''' with metadata for a message without text).');
  ELSIF check_message.metadata IS NOT NULL AND jsonb_typeof(check_message.metadata) <> 'object' THEN
    PERFORM session_manager.raise_invalid('22023',
      label || format('metadata must be a JSON object, got %s', jsonb_typeof(check_message.metadata)),
      'Pass a JSON object (the framework''s fields by name), or NULL.');
  ELSIF check_message.content = '' AND check_message.metadata IS NULL THEN
    PERFORM session_manager.raise_invalid('22023', label || 'content must not be empty without metadata',
      'Pass the message text, or metadata for a message that carries no text (a tool call).');
  ELSIF length(check_message.content) > max_content_length THEN
    PERFORM session_manager.raise_invalid('22001',
      label || format('content has %s characters, more than max_content_length (%s)', length(check_message.content), max_content_length),
      'Split the message, or raise session_manager.settings.max_content_length.');
  ELSIF check_message.agent_id = '' THEN
    PERFORM session_manager.raise_invalid('22023', label || 'agent_id must not be empty', 'Pass one of settings.agents, or NULL.');
  ELSIF check_message.agent_id IS NOT NULL AND NOT check_message.agent_id = ANY (agents) THEN
    PERFORM session_manager.raise_invalid('22023', label || format('agent %L is not in settings.agents %s', check_message.agent_id, agents),
      'Pass one of settings.agents, or add the agent: UPDATE session_manager.settings SET agents = agents || ''name''.');
  END IF;
  IF check_message.metadata IS NOT NULL THEN
    metadata_bytes := octet_length(check_message.metadata::text);
    IF metadata_bytes > max_metadata_bytes THEN
      PERFORM session_manager.raise_invalid('22001',
        label || format('metadata has %s bytes of JSON, more than max_metadata_bytes (%s)', metadata_bytes, max_metadata_bytes),
        'Store less in metadata, or raise session_manager.settings.max_metadata_bytes.');
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION session_manager.check_message(text, text, text, jsonb, integer, integer, text[], text) IS 'Raises the contract''s error for a message that may not be stored (role, content, agent, metadata against the limits given), its message prefixed by label.';

-- A retry: the message already stored under message_id, when it is the same message; NULL when
-- nothing is stored under it (or message_id is NULL). Scoped to a user, a message of another
-- user's session is reported as that session being unknown (P0002), never returned.
CREATE FUNCTION session_manager.stored_retry(message_id uuid, acting_user text, session_id text, role text,
                                             content text, agent_id text, metadata jsonb)
RETURNS session_manager.message
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  stored session_manager.message;
BEGIN
  IF stored_retry.message_id IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT m.message_id, m.session_id, m.role, m.content, m.created_at, m.agent_id, m.metadata INTO stored
  FROM session_manager.messages m WHERE m.message_id = stored_retry.message_id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF stored_retry.acting_user IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM public."conversationSessions" c
       WHERE c.id = stored.session_id AND c."userId" = stored_retry.acting_user) THEN
    PERFORM session_manager.raise_invalid('P0002', format('session %L does not exist', stored_retry.session_id),
      'Create the session with get_or_create_session first.');
  END IF;
  IF (stored.session_id, stored.role, stored.content, stored.agent_id, stored.metadata)
     IS DISTINCT FROM (stored_retry.session_id, stored_retry.role, stored_retry.content, stored_retry.agent_id, stored_retry.metadata) THEN
    PERFORM session_manager.raise_invalid('23505',
      format('message_id %s is already stored with another session, role, content, agent_id or metadata', stored_retry.message_id),
      'Use a new message_id for a new message; a retry must repeat the stored message exactly.');
  END IF;
  RETURN stored;
END
$$;
COMMENT ON FUNCTION session_manager.stored_retry(uuid, text, text, text, text, text, jsonb) IS 'The message stored under message_id when the retried one matches it, NULL when none is stored; 23505 when it differs, P0002 when it is another user''s.';

-- Locking the session keeps cleanup (which skips locked rows) and end_session from closing it
-- between the check and the change, and serializes the changes of one session's messages (the
-- counter stays exact).
CREATE FUNCTION session_manager.lock_live_session(session_id text, acting_user text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  active boolean;
  last_activity timestamptz;
BEGIN
  SELECT c."isActive", c."lastActivity" INTO active, last_activity
  FROM public."conversationSessions" c
  WHERE c.id = lock_live_session.session_id AND (lock_live_session.acting_user IS NULL OR c."userId" = lock_live_session.acting_user)
  FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    PERFORM session_manager.raise_invalid('P0002', format('session %L does not exist', lock_live_session.session_id),
      'Create the session with get_or_create_session first.');
  ELSIF NOT active OR last_activity < now() - (SELECT s.idle_timeout FROM session_manager.settings s) THEN
    PERFORM session_manager.raise_invalid('55000', format('session %L is not live (ended or idle past the timeout)', lock_live_session.session_id),
      'Get a live session with get_or_create_session and work there; an ended session''s messages stay as they are.');
  END IF;
END
$$;
COMMENT ON FUNCTION session_manager.lock_live_session(text, text) IS 'Locks a live session of the acting user (FOR NO KEY UPDATE); P0002 when unknown, 55000 when not live.';

-- A removal updates the row (the INSERT's candidate row would fail the counter's CHECK, which
-- PostgreSQL tests before it finds the conflict).
CREATE FUNCTION session_manager.add_message_count(session_id text, delta integer)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  UPDATE session_manager.session_message_counts k SET message_count = k.message_count + add_message_count.delta
  WHERE k.session_id = add_message_count.session_id AND add_message_count.delta < 0;
  INSERT INTO session_manager.session_message_counts AS k (session_id, message_count)
  SELECT add_message_count.session_id, add_message_count.delta WHERE add_message_count.delta > 0
  ON CONFLICT ON CONSTRAINT session_message_counts_pkey DO UPDATE SET message_count = k.message_count + add_message_count.delta;
END;
COMMENT ON FUNCTION session_manager.add_message_count(text, integer) IS 'Adds delta (negative: removed messages) to the session''s message count.';

REVOKE EXECUTE ON FUNCTION
  session_manager.check_message(text, text, text, jsonb, integer, integer, text[], text),
  session_manager.stored_retry(uuid, text, text, text, text, text, jsonb),
  session_manager.lock_live_session(text, text),
  session_manager.add_message_count(text, integer)
FROM PUBLIC;
COMMIT;
