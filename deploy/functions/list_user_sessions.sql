-- Deploy pg-session-manager:functions/list_user_sessions to pg
-- requires: functions/internals sessions_active_index sessions_user_index
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER so that user scoping, not the caller's table rights, decides what it sees.
CREATE FUNCTION session_manager.list_user_sessions(user_id text, include_inactive boolean DEFAULT false)
RETURNS SETOF session_manager.session_info
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  idle interval;
BEGIN
  PERFORM session_manager.check_id(list_user_sessions.user_id, 'user_id');
  IF list_user_sessions.include_inactive IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'include_inactive must not be NULL', 'Pass true or false.');
  END IF;
  IF acting_user IS NOT NULL AND acting_user <> list_user_sessions.user_id THEN
    RETURN;
  END IF;
  SELECT s.idle_timeout INTO idle FROM session_manager.settings s;
  IF list_user_sessions.include_inactive THEN
    RETURN QUERY
      SELECT (session_manager.session_info_of(c, idle)).*
      FROM public."conversationSessions" c
      WHERE c."userId" = list_user_sessions.user_id
      ORDER BY c."lastActivity" DESC, c.id;
  ELSE
    -- Live sessions only, found through the index of active sessions.
    RETURN QUERY
      SELECT (session_manager.session_info_of(c, idle)).*
      FROM public."conversationSessions" c
      WHERE c."userId" = list_user_sessions.user_id AND c."isActive" AND c."lastActivity" >= now() - idle
      ORDER BY c."lastActivity" DESC, c.id;
  END IF;
END
$$;
COMMENT ON FUNCTION session_manager.list_user_sessions(text, boolean) IS 'Returns the user''s live sessions (all of them with include_inactive), most recently active first.';
REVOKE EXECUTE ON FUNCTION session_manager.list_user_sessions(text, boolean) FROM PUBLIC;
COMMIT;
