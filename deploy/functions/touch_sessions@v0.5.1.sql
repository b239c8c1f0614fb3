-- Deploy pg-session-manager:functions/touch_sessions to pg
-- requires: functions/internals settings_cache
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER for the same reason as touch_session, and like it without a SET clause:
-- every type, function, operator and relation is schema-qualified, settings come from the cache.
CREATE OR REPLACE FUNCTION session_manager.touch_sessions(session_ids pg_catalog.text[]) RETURNS pg_catalog.int4
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  acting_user pg_catalog.text := session_manager.scoped_user();
  live pg_catalog.int4;
BEGIN
  IF touch_sessions.session_ids IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'session_ids must not be NULL', 'Pass an array of session ids (it may be empty).');
  ELSIF pg_catalog.array_position(touch_sessions.session_ids, NULL::pg_catalog.text) IS NOT NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'session_ids must not contain NULL', 'Remove the NULL elements from the array.');
  ELSIF pg_catalog.array_position(touch_sessions.session_ids, ''::pg_catalog.text) IS NOT NULL THEN
    PERFORM session_manager.raise_invalid('22023', 'session_ids must not contain an empty id', 'Remove the empty strings from the array.');
  END IF;
  IF pg_catalog.cardinality(touch_sessions.session_ids) OPERATOR(pg_catalog.=) 0 THEN
    RETURN 0;
  END IF;

  -- Rows are locked in id order, so two batches over the same ids never deadlock.
  UPDATE public."conversationSessions" c
  SET "lastActivity" = pg_catalog.now()
  WHERE c.id OPERATOR(pg_catalog.=) ANY (
    SELECT t.id FROM public."conversationSessions" t
    WHERE t.id OPERATOR(pg_catalog.=) ANY (touch_sessions.session_ids)
      AND t."isActive"
      AND t."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) session_manager.cached_idle_timeout())
      AND t."lastActivity" OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) session_manager.cached_touch_resolution())
      AND (acting_user IS NULL OR t."userId" OPERATOR(pg_catalog.=) acting_user)
    ORDER BY t.id
    FOR NO KEY UPDATE OF t);

  -- What is live now counts: the sessions just touched and those skipped within resolution.
  SELECT pg_catalog.count(*) INTO live FROM public."conversationSessions" c
  WHERE c.id OPERATOR(pg_catalog.=) ANY (touch_sessions.session_ids)
    AND c."isActive"
    AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) session_manager.cached_idle_timeout())
    AND (acting_user IS NULL OR c."userId" OPERATOR(pg_catalog.=) acting_user);
  RETURN live;
END
$$;
COMMENT ON FUNCTION session_manager.touch_sessions(pg_catalog.text[]) IS 'Touches each live session of the array as touch_session does and returns how many distinct ids were live; 0 for an empty array.';
REVOKE EXECUTE ON FUNCTION session_manager.touch_sessions(pg_catalog.text[]) FROM PUBLIC;
COMMIT;
