-- Verify pg-session-manager:message_type_agent_memory on pg
SELECT (NULL::session_manager.message).agent_id, (NULL::session_manager.message).metadata;
