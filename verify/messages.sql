-- Verify pg-session-manager:messages on pg
SELECT id, message_id, session_id, role, content, created_at FROM session_manager.messages WHERE FALSE;
SELECT session_id, message_count FROM session_manager.session_message_counts WHERE FALSE;
