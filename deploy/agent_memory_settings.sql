-- Deploy pg-session-manager:agent_memory_settings to pg
-- requires: settings
-- Constant-default columns on the one-row settings table: no rewrite to speak of.
-- max_metadata_bytes: 262,144 bytes of JSON text (256 KiB), as much as the largest content of the
-- default max_content_length (65,536 characters of up to 4 bytes each): a framework's tool output
-- or content blocks fit, a runaway payload does not. max_batch_messages: 1,000 messages in one
-- append_messages call (a framework's whole turn, tool calls included, is a handful; a bulk import
-- takes a few calls), so one call holds the session's lock for a bounded time.
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE session_manager.settings
  ADD COLUMN max_metadata_bytes integer NOT NULL DEFAULT 262144
    CONSTRAINT settings_max_metadata_bytes_range CHECK (max_metadata_bytes BETWEEN 2 AND 10485760),
  ADD COLUMN max_batch_messages integer NOT NULL DEFAULT 1000
    CONSTRAINT settings_max_batch_messages_range CHECK (max_batch_messages BETWEEN 1 AND 100000);
COMMENT ON COLUMN session_manager.settings.max_metadata_bytes IS 'Bytes allowed in one message''s metadata, as JSON text.';
COMMENT ON COLUMN session_manager.settings.max_batch_messages IS 'Messages allowed in one append_messages call.';
COMMIT;
