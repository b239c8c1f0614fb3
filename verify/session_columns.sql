-- Verify pg-session-manager:session_columns on pg
SELECT "lastActivity", "isActive", "chatId" FROM public."conversationSessions" WHERE FALSE;
SELECT 1/(COUNT(*) = 3)::int FROM information_schema.columns
WHERE table_schema = 'public' AND table_name = 'conversationSessions'
  AND ((column_name = 'lastActivity' AND data_type = 'timestamp with time zone')
    OR (column_name = 'isActive' AND data_type = 'boolean' AND is_nullable = 'NO')
    OR (column_name = 'chatId' AND data_type = 'text'));
