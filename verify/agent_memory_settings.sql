-- Verify pg-session-manager:agent_memory_settings on pg
SELECT max_metadata_bytes, max_batch_messages FROM session_manager.settings WHERE FALSE;
