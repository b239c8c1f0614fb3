-- Deploy pg-session-manager:functions/get_or_create_session to pg
-- requires: functions/internals sessions_active_chat_index
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: creates and closes sessions for a role that may not write the table.
CREATE FUNCTION session_manager.get_or_create_session(user_id text, agent text, chat_id text DEFAULT NULL,
                                                      title text DEFAULT NULL)
RETURNS session_manager.session_info
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  cfg session_manager.settings;
  found_row public."conversationSessions";
  attempt integer;
BEGIN
  PERFORM session_manager.check_id(get_or_create_session.user_id, 'user_id');
  IF get_or_create_session.agent IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'agent must not be NULL', 'Pass one of the agents in session_manager.settings.agents.');
  END IF;
  IF get_or_create_session.chat_id = '' THEN
    PERFORM session_manager.raise_invalid('22023', 'chat_id must not be empty', 'Pass the chat''s id, or NULL for a session without a chat.');
  END IF;
  SELECT * INTO cfg FROM session_manager.settings;
  IF NOT get_or_create_session.agent = ANY (cfg.agents) THEN
    PERFORM session_manager.raise_invalid('22023', format('agent %L is not allowed', get_or_create_session.agent),
      format('Use one of %s, or add it to session_manager.settings.agents.', array_to_string(cfg.agents, ', ')));
  END IF;
  -- Another user's data is unknown to a caller scoped to one user.
  IF (acting_user IS NOT NULL AND acting_user <> get_or_create_session.user_id)
     OR NOT EXISTS (SELECT 1 FROM public."user" u WHERE u.id = get_or_create_session.user_id) THEN
    PERFORM session_manager.raise_invalid('P0002', format('user %L does not exist', get_or_create_session.user_id),
      'Create the user in the application first, or check the user_id.');
  END IF;

  IF get_or_create_session.chat_id IS NOT NULL THEN
    -- Concurrent callers for one chat meet at the partial unique index: the loser of the
    -- insert race finds the winner's row on its next pass. Three passes bound the loop.
    FOR attempt IN 1..3 LOOP
      SELECT * INTO found_row FROM public."conversationSessions" c
      WHERE c."userId" = get_or_create_session.user_id AND c."chatId" = get_or_create_session.chat_id
        AND c."isActive"
      FOR NO KEY UPDATE;
      IF FOUND THEN
        IF found_row."lastActivity" >= now() - cfg.idle_timeout THEN
          -- Reuse counts as a touch: forwards only.
          UPDATE public."conversationSessions" c SET "lastActivity" = now()
          WHERE c.id = found_row.id AND c."lastActivity" < now();
          IF FOUND THEN
            found_row."lastActivity" := now();
          END IF;
          RETURN session_manager.session_info_of(found_row, cfg.idle_timeout);
        END IF;
        -- Active but idle past the timeout: it is not live, so close it and start anew.
        UPDATE public."conversationSessions" c SET "isActive" = false WHERE c.id = found_row.id;
      END IF;
      INSERT INTO public."conversationSessions" AS c (id, "userId", agent, title, "chatId")
      VALUES (gen_random_uuid()::text, get_or_create_session.user_id, get_or_create_session.agent,
              get_or_create_session.title, get_or_create_session.chat_id)
      ON CONFLICT ("userId", "chatId") WHERE "isActive" AND "chatId" IS NOT NULL DO NOTHING
      RETURNING * INTO found_row;
      IF FOUND THEN
        RETURN session_manager.session_info_of(found_row, cfg.idle_timeout);
      END IF;
    END LOOP;
    PERFORM session_manager.raise_invalid('40001', 'could not settle the session of this chat under concurrent changes',
      'Retry the call.');
  END IF;

  INSERT INTO public."conversationSessions" AS c (id, "userId", agent, title)
  VALUES (gen_random_uuid()::text, get_or_create_session.user_id, get_or_create_session.agent, get_or_create_session.title)
  RETURNING * INTO found_row;
  RETURN session_manager.session_info_of(found_row, cfg.idle_timeout);
END
$$;
COMMENT ON FUNCTION session_manager.get_or_create_session(text, text, text, text) IS 'With chat_id, returns (and touches) the user''s live session of that chat or closes a stale one and creates it anew; without chat_id always creates a new session.';
REVOKE EXECUTE ON FUNCTION session_manager.get_or_create_session(text, text, text, text) FROM PUBLIC;
COMMIT;
