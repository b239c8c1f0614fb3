-- Verify pg-session-manager:app_tables_check on pg
SELECT id, "userId", agent, title, "createdAt", "updatedAt" FROM public."conversationSessions" WHERE FALSE;
SELECT id FROM public."user" WHERE FALSE;
