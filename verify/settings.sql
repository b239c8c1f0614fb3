-- Verify pg-session-manager:settings on pg
SELECT 1/(COUNT(*) = 1)::int FROM session_manager.settings;
SELECT idle_timeout, context_messages, cleanup_batch_size, touch_resolution, agents, max_content_length
FROM session_manager.settings WHERE FALSE;
