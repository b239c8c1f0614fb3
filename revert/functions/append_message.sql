-- Revert pg-session-manager:functions/append_message from pg
-- Back to functions/append_message@v0.5.1: every check, the lock and the counter through the helpers.
-- On Citus, that body as citus/functions adapted it (citus/functions' own revert then restores its copy).
SET lock_timeout = '3s';
SELECT pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NOT NULL AS functions_replaced \gset
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

-- On Citus: the same adaptation citus/functions made to the previous body (its two replacements), so that
-- a message gets its order key past the session's newest and carries its user for the messages' Row
-- Level Security. Checked, so that a body without those lines fails here instead of passing unchanged.
\if :functions_replaced
DO $citus$
DECLARE
  definition text := pg_catalog.pg_get_functiondef('session_manager.append_message(text,text,text,uuid,text,jsonb)'::pg_catalog.regprocedure);
BEGIN
  IF pg_catalog.strpos(definition, 'INSERT INTO session_manager.messages AS m (message_id, session_id,') = 0
     OR pg_catalog.strpos(definition, 'VALUES (COALESCE(') = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'functions/append_message: append_message no longer has the INSERT citus/functions adapts',
      HINT = 'Adapt this script to the new definition.';
  END IF;
  definition := pg_catalog.replace(definition, 'INSERT INTO session_manager.messages AS m (message_id, session_id,',
                                   'INSERT INTO session_manager.messages AS m (id, user_id, message_id, session_id,');
  EXECUTE pg_catalog.replace(definition, 'VALUES (COALESCE(',
    'VALUES (session_manager.next_message_id(append_message.session_id), session_manager.session_user_id(append_message.session_id), COALESCE(');
END
$citus$;
\endif
COMMIT;
