-- Revert pg-session-manager:interval_parts_check from pg
SET lock_timeout = '3s';
BEGIN;
DROP FUNCTION session_manager.interval_has_negative_part(interval);
COMMIT;
