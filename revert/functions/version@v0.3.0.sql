-- Revert pg-session-manager:functions/version from pg
BEGIN;
DROP FUNCTION session_manager.version();
COMMIT;
