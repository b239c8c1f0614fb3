-- Deploy pg-session-manager:schema to pg
SET lock_timeout = '3s';
BEGIN;
CREATE SCHEMA session_manager;
COMMENT ON SCHEMA session_manager IS 'pg-session-manager: session activity, messages, cleanup and monitoring for public."conversationSessions".';
-- Nothing in the package's schema is for everyone: each object grants its own rights.
REVOKE ALL ON SCHEMA session_manager FROM PUBLIC;
COMMIT;
