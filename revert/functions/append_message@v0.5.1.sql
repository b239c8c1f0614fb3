-- Revert pg-session-manager:functions/append_message from pg
-- Back to the previous version (functions/append_message@v0.4.1): its signature, its helper
-- stored_message_or_conflict, and the grant app_grants gave it.
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.append_message(text, text, text, uuid, text, jsonb);

CREATE FUNCTION session_manager.stored_message_or_conflict(stored session_manager.messages, session_id text,
                                                           role text, content text)
RETURNS session_manager.message
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF (stored.session_id, stored.role, stored.content)
     IS DISTINCT FROM (stored_message_or_conflict.session_id, stored_message_or_conflict.role, stored_message_or_conflict.content) THEN
    PERFORM session_manager.raise_invalid('23505',
      format('message_id %s is already stored with a different session, role or content', stored.message_id),
      'Use a new message_id for a new message; reuse one only to retry the very same message.');
  END IF;
  RETURN ROW(stored.message_id, stored.session_id, stored.role, stored.content, stored.created_at)::session_manager.message;
END
$$;
COMMENT ON FUNCTION session_manager.stored_message_or_conflict(session_manager.messages, text, text, text) IS 'Returns the stored message when it matches the retried session, role and content; raises 23505 otherwise.';
-- SECURITY DEFINER: the application's role may not INSERT into the tables itself.
CREATE FUNCTION session_manager.append_message(session_id text, role text, content text, message_id uuid DEFAULT NULL)
RETURNS session_manager.message
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  cfg session_manager.settings;
  target public."conversationSessions";
  stored session_manager.messages;
BEGIN
  PERFORM session_manager.check_id(append_message.session_id, 'session_id');
  IF append_message.role IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'role must not be NULL', 'Pass user, assistant or system.');
  ELSIF append_message.role NOT IN ('user', 'assistant', 'system') THEN
    PERFORM session_manager.raise_invalid('22023', format('role %L is not allowed', append_message.role),
                                          'Pass user, assistant or system.');
  ELSIF append_message.content IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'content must not be NULL', 'Pass the message text.');
  ELSIF append_message.content = '' THEN
    PERFORM session_manager.raise_invalid('22023', 'content must not be empty', 'Pass the message text.');
  END IF;
  SELECT * INTO cfg FROM session_manager.settings;
  IF length(append_message.content) > cfg.max_content_length THEN
    PERFORM session_manager.raise_invalid('22001',
      format('content has %s characters, more than max_content_length (%s)', length(append_message.content), cfg.max_content_length),
      'Split the message, or raise session_manager.settings.max_content_length.');
  END IF;

  -- A retry of a stored message returns the stored row and writes nothing, live session or not.
  IF append_message.message_id IS NOT NULL THEN
    SELECT * INTO stored FROM session_manager.messages m WHERE m.message_id = append_message.message_id;
    IF FOUND THEN
      IF acting_user IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM public."conversationSessions" c WHERE c.id = stored.session_id AND c."userId" = acting_user) THEN
        PERFORM session_manager.raise_invalid('P0002', format('session %L does not exist', append_message.session_id),
          'Create the session with get_or_create_session first.');
      END IF;
      RETURN session_manager.stored_message_or_conflict(stored, append_message.session_id, append_message.role,
                                                        append_message.content);
    END IF;
  END IF;

  -- Locking the session keeps cleanup (which skips locked rows) and end_session from closing
  -- it between the check and the insert.
  SELECT * INTO target FROM public."conversationSessions" c
  WHERE c.id = append_message.session_id AND (acting_user IS NULL OR c."userId" = acting_user)
  FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    PERFORM session_manager.raise_invalid('P0002', format('session %L does not exist', append_message.session_id),
      'Create the session with get_or_create_session first.');
  ELSIF NOT target."isActive" OR target."lastActivity" < now() - cfg.idle_timeout THEN
    PERFORM session_manager.raise_invalid('55000', format('session %L is not live (ended or idle past the timeout)', append_message.session_id),
      'Get a live session with get_or_create_session and append there.');
  END IF;

  INSERT INTO session_manager.messages AS m (message_id, session_id, role, content)
  VALUES (COALESCE(append_message.message_id, gen_random_uuid()), append_message.session_id,
          append_message.role, append_message.content)
  ON CONFLICT ON CONSTRAINT messages_message_id_key DO NOTHING
  RETURNING * INTO stored;
  IF NOT FOUND THEN
    -- A concurrent call stored the same message_id first.
    SELECT * INTO stored FROM session_manager.messages m WHERE m.message_id = append_message.message_id;
    RETURN session_manager.stored_message_or_conflict(stored, append_message.session_id, append_message.role,
                                                      append_message.content);
  END IF;

  INSERT INTO session_manager.session_message_counts AS k (session_id, message_count)
  VALUES (append_message.session_id, 1)
  ON CONFLICT ON CONSTRAINT session_message_counts_pkey DO UPDATE SET message_count = k.message_count + 1;

  UPDATE public."conversationSessions" c SET "lastActivity" = now()
  WHERE c.id = append_message.session_id AND c."lastActivity" < now() - cfg.touch_resolution;

  RETURN ROW(stored.message_id, stored.session_id, stored.role, stored.content, stored.created_at)::session_manager.message;
END
$$;
COMMENT ON FUNCTION session_manager.append_message(text, text, text, uuid) IS 'Stores a message in a live session and touches it in one transaction; the same message_id again returns the stored row (23505 if it differs).';

REVOKE EXECUTE ON FUNCTION session_manager.append_message(text, text, text, uuid),
  session_manager.stored_message_or_conflict(session_manager.messages, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_manager.append_message(text, text, text, uuid) TO session_manager_app;
COMMIT;
