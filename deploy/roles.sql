-- Deploy pg-session-manager:roles to pg
-- requires: schema
-- The package's two group roles. Roles belong to the cluster, not to this database: created
-- when absent (which needs CREATEROLE), never dropped by revert. Where a DBA has created them
-- already, the deploying role needs no CREATEROLE.
SET lock_timeout = '3s';
BEGIN;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'session_manager_app') THEN
    CREATE ROLE session_manager_app NOLOGIN;
    COMMENT ON ROLE session_manager_app IS 'pg-session-manager: the application''s rights (the session functions; its own user''s rows).';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'session_manager_monitor') THEN
    CREATE ROLE session_manager_monitor NOLOGIN;
    COMMENT ON ROLE session_manager_monitor IS 'pg-session-manager: read-only monitoring (views and monitoring functions).';
  END IF;
END
$$;
GRANT USAGE ON SCHEMA session_manager TO session_manager_app, session_manager_monitor;
COMMIT;
