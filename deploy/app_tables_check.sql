-- Deploy pg-session-manager:app_tables_check to pg
-- Refuse to go on unless the application's tables exist: the package extends them, it never creates them.
SET lock_timeout = '3s';
BEGIN;
DO $$
DECLARE
  missing text[];
  sessions_kind text;
  coordinator_bytes bigint;
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
  -- On Citus the package distributes the sessions itself, by id, at the end of the plan (citus/*).
  -- Sessions already hash-distributed by id (the application moved to Citus first, or a revert left
  -- them so) are taken as they are: the first changes then run on the distributed table. Any other
  -- Citus shape is refused here, before anything changes.
  IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
    EXECUTE 'SELECT CASE WHEN p.partmethod OPERATOR(pg_catalog.=) ''h''
                         THEN ''hash('' OPERATOR(pg_catalog.||) pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)
                              OPERATOR(pg_catalog.||) '')''
                         WHEN p.repmodel OPERATOR(pg_catalog.=) ''t'' THEN ''reference''
                         WHEN p.partmethod OPERATOR(pg_catalog.=) ''n'' THEN ''citus local''
                         ELSE ''method '' OPERATOR(pg_catalog.||) p.partmethod::text END,
                    pg_catalog.pg_relation_size(p.logicalrelid)
             FROM pg_catalog.pg_dist_partition p
             WHERE p.logicalrelid OPERATOR(pg_catalog.=) ''public."conversationSessions"''::pg_catalog.regclass'
      INTO sessions_kind, coordinator_bytes;
    IF sessions_kind IS DISTINCT FROM 'hash(id)' AND sessions_kind IS NOT NULL THEN
      RAISE EXCEPTION USING
        ERRCODE = '55000',
        MESSAGE = 'public."conversationSessions" is already a Citus table (' || sessions_kind
                  || '): pg-session-manager distributes it by id, its primary key',
        HINT = 'Redistribute it by id (SELECT alter_distributed_table(''public."conversationSessions"'', '
               || 'distribution_column := ''id'');) or take it back to the coordinator (SELECT undistribute_table('
               || '''public."conversationSessions"'', cascade_via_foreign_keys := true);), then deploy again.';
    END IF;
    -- create_distributed_table leaves the rows it copied in the coordinator's own table, unread
    -- but checked by each constraint validated later (measured: last_activity_backfill's NOT NULL
    -- failed on them, its backfill having updated the shards only).
    IF sessions_kind = 'hash(id)' AND coordinator_bytes > 0 THEN
      RAISE EXCEPTION USING
        ERRCODE = '55000',
        MESSAGE = 'public."conversationSessions" is distributed, but the coordinator still holds the local copy '
                  || 'of its rows that create_distributed_table left (' || coordinator_bytes || ' bytes)',
        HINT = 'Remove that copy, as Citus advises when it distributes a table (the shards keep every row): '
               || 'SELECT truncate_local_data_after_distributing_table(''public."conversationSessions"''); '
               || 'then deploy again.';
    END IF;
  END IF;
END
$$;
COMMIT;
