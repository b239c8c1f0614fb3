-- Deploy pg-session-manager:functions/touch_session to pg
-- requires: functions/internals settings_cache
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: the application's role may not UPDATE the table itself; the function is
-- the only way it changes "lastActivity". This is the hot path (every chat message), so it has
-- no SET search_path clause (a SET clause costs a GUC save and restore on every call and keeps
-- the function from being cached as cheaply) and reads its settings from the constant functions
-- of settings_cache. Instead every type, function, operator and relation below is
-- schema-qualified, so nothing a caller creates in public or pg_temp can stand in for them
-- (sql_tests/120_search_path_hijack.sql). Measured figures: bench/results/report.md.
CREATE OR REPLACE FUNCTION session_manager.touch_session(session_id pg_catalog.text) RETURNS pg_catalog.bool
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  -- scoped_user() has a SQL-standard body: its NULLIF and = were bound when it was created.
  acting_user pg_catalog.text := session_manager.scoped_user();
BEGIN
  IF touch_session.session_id IS NULL OR touch_session.session_id OPERATOR(pg_catalog.=) '' THEN
    PERFORM session_manager.check_id(touch_session.session_id, 'session_id');
  END IF;
  -- Only a live session moves, and only forwards: a transaction that started before a later
  -- touch committed has an older now() and leaves the newer value alone. Within
  -- touch_resolution the write is skipped (the session stays live all the same).
  UPDATE public."conversationSessions" c
  SET "lastActivity" = pg_catalog.now()
  WHERE c.id OPERATOR(pg_catalog.=) touch_session.session_id
    AND c."isActive"
    AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) session_manager.cached_idle_timeout())
    AND c."lastActivity" OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) session_manager.cached_touch_resolution())
    AND (acting_user IS NULL OR c."userId" OPERATOR(pg_catalog.=) acting_user);
  IF FOUND THEN
    RETURN true;
  END IF;
  RETURN EXISTS (
    SELECT 1 FROM public."conversationSessions" c
    WHERE c.id OPERATOR(pg_catalog.=) touch_session.session_id
      AND c."isActive"
      AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) session_manager.cached_idle_timeout())
      AND (acting_user IS NULL OR c."userId" OPERATOR(pg_catalog.=) acting_user));
END
$$;
COMMENT ON FUNCTION session_manager.touch_session(pg_catalog.text) IS 'Marks a live session as used now (never backwards, skipped within touch_resolution) and returns true; returns false, changing nothing, for an unknown or not-live session.';
REVOKE EXECUTE ON FUNCTION session_manager.touch_session(pg_catalog.text) FROM PUBLIC;
COMMIT;
