-- Included (psql \ir) by citus/reference_tables and citus/distributed_tables before they convert
-- tables: Citus recreates the views over a table it converts (session_stats, storage_stats) without
-- their grants and comments (measured: session_manager_monitor lost SELECT on both). Kept here in
-- temporary tables of this psql session; lib/citus_views_restore.sql gives them back.
CREATE TEMPORARY TABLE IF NOT EXISTS citus_view_grants AS
SELECT c.oid::pg_catalog.regclass::pg_catalog.text AS view_name, a.grantee::pg_catalog.regrole::pg_catalog.text AS grantee,
       a.privilege_type
FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
WHERE c.relkind OPERATOR(pg_catalog.=) 'v' AND c.relnamespace OPERATOR(pg_catalog.=) 'session_manager'::pg_catalog.regnamespace
  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner AND a.grantee OPERATOR(pg_catalog.<>) 0;
CREATE TEMPORARY TABLE IF NOT EXISTS citus_view_comments AS
SELECT c.oid::pg_catalog.regclass::pg_catalog.text AS view_name, d.description
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_description d
  ON d.objoid OPERATOR(pg_catalog.=) c.oid AND d.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.objsubid OPERATOR(pg_catalog.=) 0
WHERE c.relkind OPERATOR(pg_catalog.=) 'v' AND c.relnamespace OPERATOR(pg_catalog.=) 'session_manager'::pg_catalog.regnamespace;
