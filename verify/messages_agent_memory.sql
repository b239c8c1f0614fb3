-- Verify pg-session-manager:messages_agent_memory on pg
SELECT agent_id, metadata FROM session_manager.messages WHERE FALSE;
SELECT 1/(pg_catalog.strpos(pg_catalog.pg_get_constraintdef(oid), 'tool') > 0)::int FROM pg_catalog.pg_constraint
WHERE conrelid = 'session_manager.messages'::regclass AND conname = 'messages_role_valid';
SELECT 1/COUNT(*) FROM pg_catalog.pg_constraint
WHERE conrelid = 'session_manager.messages'::regclass AND conname = 'messages_metadata_object';
