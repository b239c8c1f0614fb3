-- Verify pg-session-manager:roles on pg
SELECT 1/(COUNT(*) = 2)::int FROM pg_catalog.pg_roles
WHERE rolname IN ('session_manager_app', 'session_manager_monitor') AND NOT rolcanlogin;
SELECT 1/pg_catalog.has_schema_privilege('session_manager_app', 'session_manager', 'USAGE')::int;
