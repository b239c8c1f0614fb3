-- Deploy pg-session-manager:functions/version to pg
-- requires: schema
SET lock_timeout = '3s';
BEGIN;
CREATE FUNCTION session_manager.version() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '0.1.0';
COMMENT ON FUNCTION session_manager.version() IS 'Returns the version of pg-session-manager deployed in this database.';
REVOKE EXECUTE ON FUNCTION session_manager.version() FROM PUBLIC;
COMMIT;
