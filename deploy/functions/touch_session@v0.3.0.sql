-- Deploy pg-session-manager:functions/touch_session to pg
-- requires: functions/internals
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: the application's role may not UPDATE the table itself; the function is
-- the only way it changes "lastActivity". search_path is pinned so that nothing a caller
-- creates in public or pg_temp can stand in for what the body names.
CREATE FUNCTION session_manager.touch_session(session_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := nullif(current_setting('session_manager.user_id', true), '');
  idle interval;
  resolution interval;
BEGIN
  IF touch_session.session_id IS NULL OR touch_session.session_id = '' THEN
    PERFORM session_manager.check_id(touch_session.session_id, 'session_id');
  END IF;
  SELECT s.idle_timeout, s.touch_resolution INTO idle, resolution FROM session_manager.settings s;

  -- Only a live session moves, and only forwards: a transaction that started before a later
  -- touch committed has an older now() and leaves the newer value alone. Within
  -- touch_resolution the write is skipped (the session stays live all the same).
  UPDATE public."conversationSessions" c
  SET "lastActivity" = now()
  WHERE c.id = touch_session.session_id
    AND c."isActive"
    AND c."lastActivity" >= now() - idle
    AND c."lastActivity" < now() - resolution
    AND (acting_user IS NULL OR c."userId" = acting_user);
  IF FOUND THEN
    RETURN true;
  END IF;
  RETURN EXISTS (
    SELECT 1 FROM public."conversationSessions" c
    WHERE c.id = touch_session.session_id
      AND c."isActive"
      AND c."lastActivity" >= now() - idle
      AND (acting_user IS NULL OR c."userId" = acting_user));
END
$$;
COMMENT ON FUNCTION session_manager.touch_session(text) IS 'Marks a live session as used now (never backwards, skipped within touch_resolution) and returns true; returns false, changing nothing, for an unknown or not-live session.';
REVOKE EXECUTE ON FUNCTION session_manager.touch_session(text) FROM PUBLIC;
COMMIT;
