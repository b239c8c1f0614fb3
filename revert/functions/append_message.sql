-- Revert pg-session-manager:functions/append_message from pg
-- Back to functions/append_message@v0.5.1: every check, the lock and the counter through the helpers.
-- On Citus the deploy changed nothing, and citus/functions' own revert restores its copy.
SET lock_timeout = '3s';
SELECT pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NOT NULL AS functions_replaced \gset
\if :functions_replaced
\else
BEGIN;
CREATE OR REPLACE FUNCTION session_manager.append_message(session_id text, role text, content text, message_id uuid DEFAULT NULL,
                                                          agent_id text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS session_manager.message
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  cfg session_manager.settings;
  stored session_manager.message;
BEGIN
  PERFORM session_manager.check_id(append_message.session_id, 'session_id');
  SELECT * INTO cfg FROM session_manager.settings;
  PERFORM session_manager.check_message(append_message.role, append_message.content, append_message.agent_id,
    append_message.metadata, cfg.max_content_length, cfg.max_metadata_bytes, cfg.agents, '');

  -- A retry of a stored message returns the stored row and writes nothing, live session or not.
  stored := session_manager.stored_retry(append_message.message_id, acting_user, append_message.session_id,
    append_message.role, append_message.content, append_message.agent_id, append_message.metadata);
  IF stored.message_id IS NOT NULL THEN
    RETURN stored;
  END IF;

  PERFORM session_manager.lock_live_session(append_message.session_id, acting_user);
  INSERT INTO session_manager.messages AS m (message_id, session_id, role, content, agent_id, metadata)
  VALUES (COALESCE(append_message.message_id, gen_random_uuid()), append_message.session_id,
          append_message.role, append_message.content, append_message.agent_id, append_message.metadata)
  ON CONFLICT ON CONSTRAINT messages_message_id_key DO NOTHING
  RETURNING m.message_id, m.session_id, m.role, m.content, m.created_at, m.agent_id, m.metadata INTO stored;
  IF NOT FOUND THEN
    -- A concurrent call stored the same message_id first.
    RETURN session_manager.stored_retry(append_message.message_id, acting_user, append_message.session_id,
      append_message.role, append_message.content, append_message.agent_id, append_message.metadata);
  END IF;

  PERFORM session_manager.add_message_count(append_message.session_id, 1);
  UPDATE public."conversationSessions" c SET "lastActivity" = now()
  WHERE c.id = append_message.session_id AND c."lastActivity" < now() - cfg.touch_resolution;
  RETURN stored;
END
$$;
COMMENT ON FUNCTION session_manager.append_message(text, text, text, uuid, text, jsonb) IS 'Stores a message (role user, assistant, system or tool; agent_id one of settings.agents or NULL; metadata a JSON object or NULL; content empty only with metadata) in a live session and touches it in one transaction; the same message_id again returns the stored row (23505 if anything differs).';

COMMIT;
\endif
