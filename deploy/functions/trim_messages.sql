-- Deploy pg-session-manager:functions/trim_messages to pg
-- requires: functions/message_internals messages_session_agent_index roles
-- For the frameworks' bounded histories (agent-squad's max_history_size): the oldest messages go,
-- the newest keep stay. The cut is found by walking keep entries back along an index, the
-- removal reads only what it removes: the cost is keep + removed, not the history.
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: the application's role may not DELETE from the tables itself.
CREATE FUNCTION session_manager.trim_messages(session_id text, keep integer, agent_id text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  newest_removed bigint;
  removed integer := 0;
BEGIN
  PERFORM session_manager.check_id(trim_messages.session_id, 'session_id');
  IF trim_messages.keep IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', 'keep must not be NULL', 'Pass how many of the newest messages to keep (0 or more).');
  ELSIF trim_messages.keep < 0 THEN
    PERFORM session_manager.raise_invalid('22023', format('keep must not be negative, got %s', trim_messages.keep),
      'Pass how many of the newest messages to keep (0 or more).');
  ELSIF trim_messages.agent_id = '' THEN
    PERFORM session_manager.raise_invalid('22023', 'agent_id must not be empty',
      'Pass the agent whose messages to trim, or NULL for all of the session''s.');
  END IF;
  PERFORM session_manager.lock_live_session(trim_messages.session_id, session_manager.scoped_user());
  IF trim_messages.agent_id IS NULL THEN
    SELECT n.id INTO newest_removed FROM session_manager.messages n
    WHERE n.session_id = trim_messages.session_id
    ORDER BY n.id DESC OFFSET trim_messages.keep LIMIT 1;
    IF FOUND THEN
      DELETE FROM session_manager.messages m
      WHERE m.session_id = trim_messages.session_id AND m.id <= newest_removed;
      GET DIAGNOSTICS removed = ROW_COUNT;
    END IF;
  ELSE
    SELECT n.id INTO newest_removed FROM session_manager.messages n
    WHERE n.session_id = trim_messages.session_id AND COALESCE(n.agent_id, '') = trim_messages.agent_id
    ORDER BY n.id DESC OFFSET trim_messages.keep LIMIT 1;
    IF FOUND THEN
      DELETE FROM session_manager.messages m
      WHERE m.session_id = trim_messages.session_id AND COALESCE(m.agent_id, '') = trim_messages.agent_id
        AND m.id <= newest_removed;
      GET DIAGNOSTICS removed = ROW_COUNT;
    END IF;
  END IF;
  IF removed > 0 THEN
    PERFORM session_manager.add_message_count(trim_messages.session_id, -removed);
  END IF;
  RETURN removed;
END
$$;
COMMENT ON FUNCTION session_manager.trim_messages(text, integer, text) IS 'Removes all but the newest keep messages of a live session (with agent_id, of that agent''s messages only) and returns how many; P0002 for an unknown session, 55000 for one not live.';
REVOKE EXECUTE ON FUNCTION session_manager.trim_messages(text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_manager.trim_messages(text, integer, text) TO session_manager_app;
COMMIT;
