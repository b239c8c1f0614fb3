-- Deploy pg-session-manager:functions/version to pg
-- requires: functions/version@v0.4.1
SET lock_timeout = '3s';
BEGIN;
CREATE OR REPLACE FUNCTION session_manager.version() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '0.5.0';
COMMENT ON FUNCTION session_manager.version() IS 'Returns the version of pg-session-manager deployed in this database.';
COMMIT;
