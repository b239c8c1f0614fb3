-- Deploy pg-session-manager:app_tables_check to pg
-- Refuse to go on unless the application's tables exist: the package extends them, it never creates them.
SET lock_timeout = '3s';
BEGIN;
DO $$
DECLARE
  missing text[];
BEGIN
  SELECT pg_catalog.array_agg(want.name ORDER BY want.name) INTO missing
  FROM (VALUES ('public.user.id'), ('public.conversationSessions.id'), ('public.conversationSessions.userId'),
               ('public.conversationSessions.agent'), ('public.conversationSessions.title'),
               ('public.conversationSessions.createdAt'), ('public.conversationSessions.updatedAt')) AS want(name)
  WHERE NOT EXISTS (
    SELECT 1 FROM information_schema.columns c
    WHERE c.table_schema || '.' || c.table_name || '.' || c.column_name = want.name);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = '42P01',
      MESSAGE = 'pg-session-manager needs the application''s tables public."user" and public."conversationSessions"; missing: '
                || pg_catalog.array_to_string(missing, ', '),
      HINT = 'Deploy into the application''s database after its ORM has created its tables (see scripts/app_schema.sql).';
  END IF;
END
$$;
COMMIT;
