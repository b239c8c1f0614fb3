-- Deploy pg-session-manager:functions/pop_message to pg
-- requires: functions/message_internals roles
-- For the frameworks' "remove the latest item" (OpenAI Agents' pop_item): the newest message by
-- the ordering identity, found by one backward probe of the (session_id, id) index.
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: the application's role may not DELETE from the tables itself.
CREATE FUNCTION session_manager.pop_message(session_id text)
RETURNS SETOF session_manager.message
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  popped session_manager.message;
BEGIN
  PERFORM session_manager.check_id(pop_message.session_id, 'session_id');
  PERFORM session_manager.lock_live_session(pop_message.session_id, session_manager.scoped_user());
  -- session_id in the DELETE's condition too: the row is found by its session, where it lives.
  DELETE FROM session_manager.messages m
  WHERE m.session_id = pop_message.session_id
    AND m.id = (SELECT n.id FROM session_manager.messages n WHERE n.session_id = pop_message.session_id
                ORDER BY n.id DESC LIMIT 1)
  RETURNING m.message_id, m.session_id, m.role, m.content, m.created_at, m.agent_id, m.metadata INTO popped;
  IF FOUND THEN
    PERFORM session_manager.add_message_count(pop_message.session_id, -1);
    RETURN NEXT popped;
  END IF;
END
$$;
COMMENT ON FUNCTION session_manager.pop_message(text) IS 'Removes and returns the newest message of a live session (no rows when it has none); P0002 for an unknown session, 55000 for one not live.';
REVOKE EXECUTE ON FUNCTION session_manager.pop_message(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_manager.pop_message(text) TO session_manager_app;
COMMIT;
