-- Revert pg-session-manager:functions/get_context from pg
-- Back to the previous version (functions/get_context@v0.4.1): its signature and the grant
-- app_grants gave it.
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.get_context(text, integer, text);

-- SECURITY DEFINER so that user scoping, not the caller's table rights, decides what it sees.
CREATE FUNCTION session_manager.get_context(session_id text, max_messages integer DEFAULT NULL)
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
  END IF;
  SELECT COALESCE(get_context.max_messages, s.context_messages) INTO wanted FROM session_manager.settings s;
  IF acting_user IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM public."conversationSessions" c WHERE c.id = get_context.session_id AND c."userId" = acting_user) THEN
    RETURN;
  END IF;
  -- The last N walk the (session_id, id) index backwards: the cost does not grow with history.
  RETURN QUERY
    SELECT last.message_id, last.session_id, last.role, last.content, last.created_at
    FROM (SELECT m.* FROM session_manager.messages m
          WHERE m.session_id = get_context.session_id
          ORDER BY m.id DESC LIMIT wanted) AS last
    ORDER BY last.id;
END
$$;
COMMENT ON FUNCTION session_manager.get_context(text, integer) IS 'Returns the last max_messages (NULL: context_messages) messages of a session, oldest first; no rows for an unknown session.';
REVOKE EXECUTE ON FUNCTION session_manager.get_context(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_manager.get_context(text, integer) TO session_manager_app;
COMMIT;
