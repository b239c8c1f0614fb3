-- Verify pg-session-manager:citus/reference_tables on pg
\ir ../../lib/citus_mode.sql
\if :citus_on
SELECT 1 / COUNT(*) FROM pg_catalog.pg_dist_partition
WHERE logicalrelid = 'session_manager.settings'::regclass AND partmethod = 'n' AND repmodel = 't';
SELECT 1 / COUNT(*) FROM pg_catalog.pg_dist_partition
WHERE logicalrelid = 'public."user"'::regclass AND partmethod = 'n' AND repmodel = 't';
\endif
