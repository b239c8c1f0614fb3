-- Deploy pg-session-manager:app_grants to pg
-- requires: roles functions/touch_session functions/touch_sessions functions/cleanup_old_sessions functions/get_or_create_session functions/end_session functions/append_message functions/get_context functions/get_session_info functions/list_user_sessions functions/version
-- session_manager_app may call the session functions and read, through Row Level Security
-- (row_level_security), the sessions and messages of the user it acts for. It writes only
-- through the functions: no INSERT, UPDATE or DELETE on any table.
SET lock_timeout = '3s';
BEGIN;
GRANT EXECUTE ON FUNCTION
  session_manager.touch_session(text),
  session_manager.touch_sessions(text[]),
  session_manager.cleanup_old_sessions(interval),
  session_manager.get_or_create_session(text, text, text, text),
  session_manager.end_session(text),
  session_manager.append_message(text, text, text, uuid),
  session_manager.get_context(text, integer),
  session_manager.get_session_info(text),
  session_manager.list_user_sessions(text, boolean),
  session_manager.version()
TO session_manager_app;
GRANT SELECT ON public."conversationSessions", session_manager.messages TO session_manager_app;
COMMIT;
