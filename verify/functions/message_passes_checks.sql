-- Verify pg-session-manager:functions/message_passes_checks on pg
-- Raises (a missing function, or division by zero) unless it passes a plain message and fails a NULL role.
SELECT 1 / (session_manager.message_passes_checks('user', 'oi', NULL, NULL, 10, 10, ARRAY['geral'])
            AND NOT session_manager.message_passes_checks(NULL, 'oi', NULL, NULL, 10, 10, ARRAY['geral']))::int;
