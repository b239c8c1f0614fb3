-- Deploy pg-session-manager:functions/end_session to pg
-- requires: functions/internals
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: the application's role may not UPDATE the table itself.
CREATE FUNCTION session_manager.end_session(session_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  idle interval;
BEGIN
  PERFORM session_manager.check_id(end_session.session_id, 'session_id');
  SELECT s.idle_timeout INTO idle FROM session_manager.settings s;
  -- A session idle past the timeout is already over (cleanup counts it): treated as inactive.
  UPDATE public."conversationSessions" c SET "isActive" = false
  WHERE c.id = end_session.session_id AND c."isActive" AND c."lastActivity" >= now() - idle
    AND (acting_user IS NULL OR c."userId" = acting_user);
  RETURN FOUND;
END
$$;
COMMENT ON FUNCTION session_manager.end_session(text) IS 'Ends a live session (isActive = false) and returns true; returns false, changing nothing, for an unknown or not-live session.';
REVOKE EXECUTE ON FUNCTION session_manager.end_session(text) FROM PUBLIC;
COMMIT;
