-- Revert pg-session-manager:functions/pop_message from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.pop_message(text);
COMMIT;
