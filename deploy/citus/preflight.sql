-- Deploy pg-session-manager:citus/preflight to pg
-- requires: functions/version
-- Before the package distributes anything on a Citus coordinator: the cluster can distribute
-- without blocking, and the application's tables are in a state it can take over. Nothing is
-- changed here; a refusal leaves the database as it was, with a message saying what to do.
-- On plain PostgreSQL (no citus extension, no worker, or sqitch deploy --set citus=off) every
-- citus/* change does nothing (the citus_mode block).
SET lock_timeout = '3s';
-- Citus explains each conversion in NOTICEs (shards, copies, local tables): warnings only.
SET client_min_messages = warning;
-- >>> citus_mode: the same block in each citus/* script that needs it (`sqitch bundle` copies only the
-- plan's scripts; tests/test_packaging.py keeps the copies identical).
-- sets the psql variable citus_on to true when this
-- database is a Citus coordinator the package distributes itself on, false otherwise (the
-- package then stays as on plain PostgreSQL and every citus/* change does nothing).
-- True when: the sqitch variable citus is not off (sqitch deploy --set citus=off), the citus
-- extension is in this database, this node is the coordinator (group 0) and at least one active
-- primary worker is registered (../shared/CONTRACT.md, "Citus").
\if :{?citus}
\else
\set citus on
\endif
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') AS citus_installed \gset
\if :citus_installed
SELECT :'citus' OPERATOR(pg_catalog.<>) 'off'
       AND pg_catalog.citus_is_coordinator()
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node n
                   WHERE n.groupid OPERATOR(pg_catalog.<>) 0 AND n.noderole OPERATOR(pg_catalog.=) 'primary'
                     AND n.isactive AND n.shouldhaveshards) AS citus_on \gset
\else
\set citus_on false
\endif
-- <<< citus_mode
\if :citus_on
BEGIN;
DO $$
DECLARE
  sessions_kind text;
  user_kind text;
BEGIN
  -- create_distributed_table_concurrently streams the rows with logical decoding.
  IF pg_catalog.current_setting('wal_level') OPERATOR(pg_catalog.<>) 'logical' THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = 'Citus cannot distribute "conversationSessions" without blocking: wal_level is '
                OPERATOR(pg_catalog.||) pg_catalog.current_setting('wal_level'),
      HINT = 'Set wal_level = logical on the coordinator and every worker (and, where the setting exists, '
             'add citus to output_plugin_libraries), restart them, and deploy again; or deploy with --set citus=off.';
  END IF;
  IF pg_catalog.current_setting('output_plugin_libraries', true) IS NOT NULL
     AND NOT 'citus' OPERATOR(pg_catalog.=) ANY (pg_catalog.string_to_array(
           pg_catalog.replace(pg_catalog.current_setting('output_plugin_libraries'), ' ', ''), ',')) THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = 'Citus cannot distribute without blocking: output_plugin_libraries ('
                OPERATOR(pg_catalog.||) pg_catalog.current_setting('output_plugin_libraries')
                OPERATOR(pg_catalog.||) ') does not list citus',
      HINT = 'Add citus to output_plugin_libraries on the coordinator and every worker, reload, and deploy again.';
  END IF;
  -- What Citus already made of the application's tables: NULL (local), a Citus local table
  -- (n/s: what an interrupted run of citus/reference_tables leaves), a reference table (n/t)
  -- or hash-distributed on a column.
  SELECT CASE WHEN p.partmethod OPERATOR(pg_catalog.=) 'h'
              THEN 'hash(' OPERATOR(pg_catalog.||) pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) OPERATOR(pg_catalog.||) ')'
              WHEN p.partmethod OPERATOR(pg_catalog.=) 'n' AND p.repmodel OPERATOR(pg_catalog.=) 't' THEN 'reference'
              WHEN p.partmethod OPERATOR(pg_catalog.=) 'n' THEN 'citus local'
              ELSE 'method ' OPERATOR(pg_catalog.||) p.partmethod::text END
  INTO sessions_kind FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) 'public."conversationSessions"'::pg_catalog.regclass;
  SELECT CASE WHEN p.partmethod OPERATOR(pg_catalog.=) 'n' AND p.repmodel OPERATOR(pg_catalog.=) 't' THEN 'reference'
              WHEN p.partmethod OPERATOR(pg_catalog.=) 'n' THEN 'citus local'
              WHEN p.partmethod OPERATOR(pg_catalog.=) 'h'
              THEN 'hash(' OPERATOR(pg_catalog.||) pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) OPERATOR(pg_catalog.||) ')'
              ELSE 'method ' OPERATOR(pg_catalog.||) p.partmethod::text END
  INTO user_kind FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) 'public."user"'::pg_catalog.regclass;
  -- The sessions' primary key is (id) and stays so (the contract); Citus enforces a unique key only
  -- when it contains the distribution column, so the sessions can be distributed by id alone, and
  -- "user", which they reference by "userId", must then be a reference table.
  IF sessions_kind IS NOT NULL AND sessions_kind NOT IN ('hash(id)', 'citus local') THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = 'public."conversationSessions" is already a Citus table (' OPERATOR(pg_catalog.||) sessions_kind
                OPERATOR(pg_catalog.||) '): the package distributes it by id, its primary key',
      HINT = 'Run SELECT alter_distributed_table(''public."conversationSessions"'', distribution_column := ''id''); '
             '(or undistribute_table) and deploy again, or deploy with --set citus=off.';
  END IF;
  IF user_kind IS NOT NULL AND user_kind NOT IN ('reference', 'citus local') THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = 'public."user" is already a Citus table (' OPERATOR(pg_catalog.||) user_kind
                OPERATOR(pg_catalog.||) '): the sessions, distributed by id, can reference it only as a reference table',
      HINT = 'Run SELECT undistribute_table(''public."user"'', cascade_via_foreign_keys := true); and deploy again, '
             'or deploy with --set citus=off.';
  END IF;
END
$$;
COMMIT;
\else
\echo citus/preflight: not a Citus coordinator with workers, or citus=off: nothing to distribute
\endif
