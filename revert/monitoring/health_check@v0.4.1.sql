-- Revert pg-session-manager:monitoring/health_check from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.health_check();
DROP FUNCTION session_manager.health_level(numeric, numeric, numeric);
COMMIT;
