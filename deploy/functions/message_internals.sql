-- Deploy pg-session-manager:functions/message_internals to pg
-- requires: functions/message_internals@v0.5.1
-- stored_retry, scoped to a user (session_manager.user_id): a message_id stored in another user's
-- session, reused in a session of the user's own, was answered P0002 "session '<the user's own
-- session>' does not exist", which is false. It is now 23505, as for any other session that holds
-- the message_id; the other user's message is still never returned nor described. P0002 stays for a
-- session named that is not the user's. The other helpers are unchanged.
-- On Citus a message_id is unique within its session and the retry's lookup names the session
-- (citus/functions), so the stored message is always in the session named: nothing to do there.
SET lock_timeout = '3s';
SELECT pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NOT NULL AS functions_replaced \gset
\if :functions_replaced
\else
BEGIN;
CREATE OR REPLACE FUNCTION session_manager.stored_retry(message_id uuid, acting_user text, session_id text, role text,
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
  -- Scoped to a user, another user's message is never returned. When the session named is the
  -- user's own, the message_id is taken by another session: 23505 below, like any other session's.
  IF stored_retry.acting_user IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM public."conversationSessions" c
       WHERE c.id = stored.session_id AND c."userId" = stored_retry.acting_user)
     AND NOT EXISTS (
       SELECT 1 FROM public."conversationSessions" c
       WHERE c.id = stored_retry.session_id AND c."userId" = stored_retry.acting_user) THEN
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
COMMENT ON FUNCTION session_manager.stored_retry(uuid, text, text, text, text, text, jsonb) IS 'The message stored under message_id when the retried one matches it, NULL when none is stored; 23505 when it differs, P0002 when it is another user''s and so is the session named.';
COMMIT;
\endif
