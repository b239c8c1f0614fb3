-- Deploy pg-session-manager:functions/clear_messages to pg
-- requires: functions/message_internals roles
-- For the frameworks' "clear the history": the session stays (live, with its chat), its messages go.
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: the application's role may not DELETE from the tables itself.
CREATE FUNCTION session_manager.clear_messages(session_id text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  removed integer;
BEGIN
  PERFORM session_manager.check_id(clear_messages.session_id, 'session_id');
  PERFORM session_manager.lock_live_session(clear_messages.session_id, session_manager.scoped_user());
  DELETE FROM session_manager.messages m WHERE m.session_id = clear_messages.session_id;
  GET DIAGNOSTICS removed = ROW_COUNT;
  IF removed > 0 THEN
    PERFORM session_manager.add_message_count(clear_messages.session_id, -removed);
  END IF;
  RETURN removed;
END
$$;
COMMENT ON FUNCTION session_manager.clear_messages(text) IS 'Removes every message of a live session and returns how many; the session stays. P0002 for an unknown session, 55000 for one not live.';
REVOKE EXECUTE ON FUNCTION session_manager.clear_messages(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_manager.clear_messages(text) TO session_manager_app;
COMMIT;
