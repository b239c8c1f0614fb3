-- Verify pg-session-manager:functions/version on pg
SELECT 1/(session_manager.version() = '0.5.2')::int;
