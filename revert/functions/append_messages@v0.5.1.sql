-- Revert pg-session-manager:functions/append_messages from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.append_messages(text, jsonb);
COMMIT;
