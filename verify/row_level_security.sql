-- Verify pg-session-manager:row_level_security on pg
SELECT 1/(COUNT(*) = 2)::int FROM pg_catalog.pg_class
WHERE oid IN ('public."conversationSessions"'::regclass, 'session_manager.messages'::regclass) AND relrowsecurity;
SELECT 1/(COUNT(*) = 2)::int FROM pg_catalog.pg_policies
WHERE policyname IN ('session_manager_app_own_sessions', 'session_manager_app_own_messages');
