-- Verify pg-session-manager:messages_session_agent_index on pg
-- Fails when the index is missing (NULL regclass) or was left INVALID by an interrupted build.
SELECT 1/COUNT(*) FROM pg_catalog.pg_index
WHERE indexrelid = pg_catalog.to_regclass('session_manager.messages_session_agent_id') AND indisvalid AND indisready;
