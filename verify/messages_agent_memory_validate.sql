-- Verify pg-session-manager:messages_agent_memory_validate on pg
SELECT 1/(COUNT(*) = 2)::int FROM pg_catalog.pg_constraint
WHERE conrelid = 'session_manager.messages'::regclass AND conname IN ('messages_role_valid', 'messages_metadata_object')
  AND convalidated;
