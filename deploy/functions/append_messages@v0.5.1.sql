-- Deploy pg-session-manager:functions/append_messages to pg
-- requires: functions/message_internals roles
-- A framework's turn (the user's message, tool calls, their results, the answer) stored in one
-- call: every element is checked first, then stored in order; any error stores nothing of it.
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: the application's role may not INSERT into the tables itself.
CREATE FUNCTION session_manager.append_messages(session_id text, messages jsonb)
RETURNS SETOF session_manager.message
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  cfg session_manager.settings;
  total integer;
  item jsonb;
  label text;
  bad_key text;
  roles text[];
  contents text[];
  ids uuid[];
  agent_ids text[];
  metadatas jsonb[];
  stored session_manager.message;
  locked boolean := false;
  added integer := 0;
BEGIN
  PERFORM session_manager.check_id(append_messages.session_id, 'session_id');
  IF append_messages.messages IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'messages must not be NULL',
      'Pass a JSON array of {role, content, message_id?, agent_id?, metadata?} objects.');
  ELSIF jsonb_typeof(append_messages.messages) <> 'array' THEN
    PERFORM session_manager.raise_invalid('22023',
      format('messages must be a JSON array, got %s', jsonb_typeof(append_messages.messages)),
      'Pass a JSON array of {role, content, message_id?, agent_id?, metadata?} objects.');
  END IF;
  SELECT * INTO cfg FROM session_manager.settings;
  total := jsonb_array_length(append_messages.messages);
  IF total > cfg.max_batch_messages THEN
    PERFORM session_manager.raise_invalid('22023',
      format('messages holds %s messages, more than max_batch_messages (%s)', total, cfg.max_batch_messages),
      'Split the array into calls of at most max_batch_messages, or raise session_manager.settings.max_batch_messages.');
  END IF;

  -- Every element is checked before anything is written.
  FOR i IN 1 .. total LOOP
    item := append_messages.messages -> (i - 1);
    label := format('messages[%s]: ', i - 1);
    IF jsonb_typeof(item) <> 'object' THEN
      PERFORM session_manager.raise_invalid('22023', label || format('must be a JSON object, got %s', jsonb_typeof(item)),
        'Pass {role, content, message_id?, agent_id?, metadata?}.');
    END IF;
    SELECT k INTO bad_key FROM jsonb_object_keys(item) AS k
    WHERE k NOT IN ('role', 'content', 'message_id', 'agent_id', 'metadata') LIMIT 1;
    IF FOUND THEN
      PERFORM session_manager.raise_invalid('22023', label || format('unknown key %L', bad_key),
        'A message has the keys role, content, message_id, agent_id and metadata (framework fields go into metadata).');
    END IF;
    SELECT k INTO bad_key FROM unnest(ARRAY['role', 'content', 'message_id', 'agent_id']) AS k
    WHERE jsonb_typeof(item -> k) NOT IN ('string', 'null') LIMIT 1;
    IF FOUND THEN
      PERFORM session_manager.raise_invalid('22023', label || format('%s must be a JSON string, got %s', bad_key, jsonb_typeof(item -> bad_key)),
        'Pass role, content, message_id and agent_id as strings.');
    END IF;
    IF item ->> 'message_id' !~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$' THEN
      PERFORM session_manager.raise_invalid('22023', label || format('message_id %L is not a UUID', item ->> 'message_id'),
        'Pass a UUID (8-4-4-4-12 hexadecimal digits), or leave message_id out to have one generated.');
    END IF;
    roles[i] := item ->> 'role';
    contents[i] := item ->> 'content';
    ids[i] := (item ->> 'message_id')::uuid;
    agent_ids[i] := item ->> 'agent_id';
    -- "metadata": null is the same as no metadata.
    metadatas[i] := CASE WHEN jsonb_typeof(item -> 'metadata') = 'null' THEN NULL ELSE item -> 'metadata' END;
    PERFORM session_manager.check_message(roles[i], contents[i], agent_ids[i], metadatas[i],
      cfg.max_content_length, cfg.max_metadata_bytes, cfg.agents, label);
  END LOOP;

  FOR i IN 1 .. total LOOP
    -- A retried element returns the stored row and writes nothing; when every element is one, the
    -- session need not be live (as for append_message).
    stored := session_manager.stored_retry(ids[i], acting_user, append_messages.session_id,
      roles[i], contents[i], agent_ids[i], metadatas[i]);
    IF stored.message_id IS NULL THEN
      IF NOT locked THEN
        PERFORM session_manager.lock_live_session(append_messages.session_id, acting_user);
        locked := true;
      END IF;
      INSERT INTO session_manager.messages AS m (message_id, session_id, role, content, agent_id, metadata)
      VALUES (COALESCE(ids[i], gen_random_uuid()), append_messages.session_id, roles[i], contents[i], agent_ids[i], metadatas[i])
      ON CONFLICT ON CONSTRAINT messages_message_id_key DO NOTHING
      RETURNING m.message_id, m.session_id, m.role, m.content, m.created_at, m.agent_id, m.metadata INTO stored;
      IF FOUND THEN
        added := added + 1;
      ELSE
        -- A concurrent call stored the same message_id first.
        stored := session_manager.stored_retry(ids[i], acting_user, append_messages.session_id,
          roles[i], contents[i], agent_ids[i], metadatas[i]);
      END IF;
    END IF;
    RETURN NEXT stored;
  END LOOP;

  IF added > 0 THEN
    PERFORM session_manager.add_message_count(append_messages.session_id, added);
    UPDATE public."conversationSessions" c SET "lastActivity" = now()
    WHERE c.id = append_messages.session_id AND c."lastActivity" < now() - cfg.touch_resolution;
  END IF;
END
$$;
COMMENT ON FUNCTION session_manager.append_messages(text, jsonb) IS 'Stores a JSON array of {role, content, message_id?, agent_id?, metadata?} in order in one transaction, each checked as by append_message, all or nothing (at most max_batch_messages); returns the stored rows in order, retried elements as stored.';
REVOKE EXECUTE ON FUNCTION session_manager.append_messages(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_manager.append_messages(text, jsonb) TO session_manager_app;
COMMIT;
