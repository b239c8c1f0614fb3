-- Deploy pg-session-manager:functions/get_session_info to pg
-- requires: functions/internals
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER so that user scoping, not the caller's table rights, decides what it sees.
CREATE FUNCTION session_manager.get_session_info(session_id text)
RETURNS SETOF session_manager.session_info
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  idle interval;
BEGIN
  PERFORM session_manager.check_id(get_session_info.session_id, 'session_id');
  SELECT s.idle_timeout INTO idle FROM session_manager.settings s;
  RETURN QUERY
    SELECT (session_manager.session_info_of(c, idle)).*
    FROM public."conversationSessions" c
    WHERE c.id = get_session_info.session_id AND (acting_user IS NULL OR c."userId" = acting_user);
END
$$;
COMMENT ON FUNCTION session_manager.get_session_info(text) IS 'Returns the session as one session_info row (is_active meaning live), or no row when it is unknown.';
REVOKE EXECUTE ON FUNCTION session_manager.get_session_info(text) FROM PUBLIC;
COMMIT;
