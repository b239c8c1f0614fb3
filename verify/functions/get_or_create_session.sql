-- Verify pg-session-manager:functions/get_or_create_session on pg
-- Raises when the function is missing or is the previous version (without the chat_id length check).
SELECT 1/(pg_catalog.strpos(pg_catalog.pg_get_functiondef('session_manager.get_or_create_session(text, text, text, text)'::regprocedure),
                            'octet_length(get_or_create_session.chat_id) > 1024') > 0)::int;
