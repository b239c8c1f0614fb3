-- Revert pg-session-manager:app_grants from pg
SET lock_timeout = '3s';
BEGIN;
REVOKE SELECT ON public."conversationSessions", session_manager.messages FROM session_manager_app;
REVOKE EXECUTE ON FUNCTION
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
FROM session_manager_app;
COMMIT;
