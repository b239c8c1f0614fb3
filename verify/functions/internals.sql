-- Verify pg-session-manager:functions/internals on pg
SELECT 'session_manager.raise_invalid(text, text, text)'::regprocedure,
       'session_manager.check_id(text, text)'::regprocedure,
       'session_manager.scoped_user()'::regprocedure,
       'session_manager.session_info_of(public."conversationSessions", interval)'::regprocedure;
