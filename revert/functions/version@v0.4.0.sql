-- Revert pg-session-manager:functions/version from pg
-- Back to the previous version (functions/version@v0.3.0).
SET lock_timeout = '3s';
BEGIN;
CREATE OR REPLACE FUNCTION session_manager.version() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '0.1.0';
COMMIT;
