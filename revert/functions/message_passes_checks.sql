-- Revert pg-session-manager:functions/message_passes_checks from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.message_passes_checks(text, text, text, jsonb, integer, integer, text[]);
COMMIT;
