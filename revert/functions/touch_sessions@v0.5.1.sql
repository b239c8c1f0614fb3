-- Revert pg-session-manager:functions/touch_sessions from pg
-- Back to the previous version (functions/touch_sessions@v0.3.0).
-- requires: functions/internals
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER for the same reason as touch_session.
CREATE OR REPLACE FUNCTION session_manager.touch_sessions(session_ids text[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := nullif(current_setting('session_manager.user_id', true), '');
  idle interval;
  resolution interval;
  live integer;
BEGIN
  IF touch_sessions.session_ids IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'session_ids must not be NULL', 'Pass an array of session ids (it may be empty).');
  ELSIF array_position(touch_sessions.session_ids, NULL) IS NOT NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'session_ids must not contain NULL', 'Remove the NULL elements from the array.');
  ELSIF array_position(touch_sessions.session_ids, '') IS NOT NULL THEN
    PERFORM session_manager.raise_invalid('22023', 'session_ids must not contain an empty id', 'Remove the empty strings from the array.');
  END IF;
  IF cardinality(touch_sessions.session_ids) = 0 THEN
    RETURN 0;
  END IF;
  SELECT s.idle_timeout, s.touch_resolution INTO idle, resolution FROM session_manager.settings s;

  -- Rows are locked in id order, so two batches over the same ids never deadlock.
  UPDATE public."conversationSessions" c
  SET "lastActivity" = now()
  WHERE c.id IN (
    SELECT t.id FROM public."conversationSessions" t
    WHERE t.id = ANY (touch_sessions.session_ids)
      AND t."isActive"
      AND t."lastActivity" >= now() - idle
      AND t."lastActivity" < now() - resolution
      AND (acting_user IS NULL OR t."userId" = acting_user)
    ORDER BY t.id
    FOR NO KEY UPDATE OF t);

  -- What is live now counts: the sessions just touched and those skipped within resolution.
  SELECT count(*) INTO live FROM public."conversationSessions" c
  WHERE c.id = ANY (touch_sessions.session_ids)
    AND c."isActive"
    AND c."lastActivity" >= now() - idle
    AND (acting_user IS NULL OR c."userId" = acting_user);
  RETURN live;
END
$$;
COMMENT ON FUNCTION session_manager.touch_sessions(text[]) IS 'Touches each live session of the array as touch_session does and returns how many distinct ids were live; 0 for an empty array.';
REVOKE EXECUTE ON FUNCTION session_manager.touch_sessions(text[]) FROM PUBLIC;
COMMIT;
