-- Verify pg-session-manager:types on pg
SELECT (NULL::session_manager.session_info).message_count, (NULL::session_manager.message).created_at;
