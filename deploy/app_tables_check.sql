-- Deploy pg-session-manager:app_tables_check to pg
-- Refuse to go on unless the application's tables exist: the package extends them, it never creates them.
SET lock_timeout = '3s';
BEGIN;
DO $$
DECLARE
  missing text[];
  distributed boolean;
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
  -- On Citus the package distributes the sessions itself, at the end of the plan (citus/*): its
  -- first changes (the columns' batched backfill, the partial unique index, the messages'
  -- foreign keys) need them local. A revert leaves them distributed (README, "Citus").
  IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                            WHERE p.logicalrelid OPERATOR(pg_catalog.=) ''public."conversationSessions"''::pg_catalog.regclass)'
      INTO distributed;
    IF distributed THEN
      RAISE EXCEPTION USING
        ERRCODE = '55000',
        MESSAGE = 'public."conversationSessions" is already a Citus table: pg-session-manager distributes it itself, '
                  || 'at the end of its deploy, and its first changes need it local',
        HINT = 'Take it back to the coordinator first (SELECT undistribute_table(''public."conversationSessions"'', '
               || 'cascade_via_foreign_keys := true); it copies the rows and blocks writes meanwhile), then deploy: '
               || 'the deploy distributes it again without blocking.';
    END IF;
  END IF;
END
$$;
COMMIT;
