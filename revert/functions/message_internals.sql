-- Revert pg-session-manager:functions/message_internals from pg
-- stored_retry back to functions/message_internals@v0.5.1 (its body of @v0.5.0). On Citus the deploy
-- changed nothing.
SET lock_timeout = '3s';
SELECT pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NOT NULL AS functions_replaced \gset
\if :functions_replaced
\else
BEGIN;
-- A retry: the message already stored under message_id, when it is the same message; NULL when
-- nothing is stored under it (or message_id is NULL). Scoped to a user, a message of another
-- user's session is reported as that session being unknown (P0002), never returned.
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
COMMIT;
\endif
