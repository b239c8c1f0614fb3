-- Revert pg-session-manager:functions/internals from pg
BEGIN;
DROP FUNCTION session_manager.session_info_of(public."conversationSessions", interval);
DROP FUNCTION session_manager.scoped_user();
DROP FUNCTION session_manager.check_id(text, text);
DROP FUNCTION session_manager.raise_invalid(text, text, text);
COMMIT;
