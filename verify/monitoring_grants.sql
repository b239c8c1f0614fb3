-- Verify pg-session-manager:monitoring_grants on pg
SELECT 1/pg_catalog.has_table_privilege('session_manager_monitor', 'session_manager.session_stats', 'SELECT')::int;
SELECT 1/pg_catalog.has_table_privilege('session_manager_monitor', 'session_manager.cleanup_history', 'SELECT')::int;
SELECT 1/pg_catalog.has_function_privilege('session_manager_monitor', 'session_manager.health_check()', 'EXECUTE')::int;
SELECT 1/pg_catalog.has_function_privilege('session_manager_monitor', 'session_manager.cleanup_job_status()', 'EXECUTE')::int;
SELECT 1/(NOT pg_catalog.has_function_privilege('session_manager_app', 'session_manager.health_check()', 'EXECUTE'))::int;
