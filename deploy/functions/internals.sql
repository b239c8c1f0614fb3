-- Deploy pg-session-manager:functions/internals to pg
-- requires: settings types messages
-- Helpers shared by the session functions. Not granted to anyone: the public functions call
-- them with the owner's rights.
SET lock_timeout = '3s';
BEGIN;

CREATE FUNCTION session_manager.raise_invalid(errcode text, message text, hint text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = raise_invalid.errcode, MESSAGE = raise_invalid.message, HINT = raise_invalid.hint;
END
$$;
COMMENT ON FUNCTION session_manager.raise_invalid(text, text, text) IS 'Raises an error with the given SQLSTATE, message and hint; never returns.';

CREATE FUNCTION session_manager.check_id(value text, name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF check_id.value IS NULL THEN
    PERFORM session_manager.raise_invalid('22004', check_id.name || ' must not be NULL',
                                          'Pass the ' || check_id.name || ' of an existing row.');
  ELSIF check_id.value = '' THEN
    PERFORM session_manager.raise_invalid('22023', check_id.name || ' must not be empty',
                                          'Pass the ' || check_id.name || ' of an existing row.');
  END IF;
END
$$;
COMMENT ON FUNCTION session_manager.check_id(text, text) IS 'Raises 22004 for a NULL id and 22023 for an empty one, naming the argument.';

-- The user the caller acts for (session_manager.user_id), NULL when unset: then every function
-- acts on all users' sessions.
CREATE FUNCTION session_manager.scoped_user() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN NULLIF(pg_catalog.current_setting('session_manager.user_id', true), '');
COMMENT ON FUNCTION session_manager.scoped_user() IS 'The user id in session_manager.user_id, or NULL when unset or empty.';

-- Shapes a row of "conversationSessions" as session_info: is_active is "live", and the message
-- count comes from the counter table (one index probe), never from counting messages.
CREATE FUNCTION session_manager.session_info_of(s public."conversationSessions", idle_timeout interval)
RETURNS session_manager.session_info
LANGUAGE sql STABLE
RETURN ROW(s.id, s."userId", s."chatId", s.agent,
           s."isActive" AND s."lastActivity" >= pg_catalog.now() - session_info_of.idle_timeout,
           s."lastActivity",
           COALESCE((SELECT c.message_count FROM session_manager.session_message_counts c
                     WHERE c.session_id = s.id), 0))::session_manager.session_info;
COMMENT ON FUNCTION session_manager.session_info_of(public."conversationSessions", interval) IS 'A sessions row as session_info, live-ness judged against the given idle timeout.';

REVOKE EXECUTE ON FUNCTION session_manager.raise_invalid(text, text, text), session_manager.check_id(text, text),
  session_manager.scoped_user(), session_manager.session_info_of(public."conversationSessions", interval) FROM PUBLIC;
COMMIT;
