-- Verify pg-session-manager:schema on pg
SELECT 1/COUNT(*) FROM pg_catalog.pg_namespace WHERE nspname = 'session_manager';
