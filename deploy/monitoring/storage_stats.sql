-- Deploy pg-session-manager:monitoring/storage_stats to pg
-- requires: cleanup_runs messages
-- Where session data lives on disk (the seed's "memory use"): the package's tables and
-- "conversationSessions", each with its heap, index and TOAST bytes, its live and dead tuples,
-- how many updates were heap-only (touches should be: see session_fillfactor), and when it was
-- last vacuumed and analyzed. Sizes and statistics need no privilege beyond this view.
SET lock_timeout = '3s';
BEGIN;
CREATE VIEW session_manager.storage_stats AS
SELECT n.nspname::text COLLATE "default" AS schema_name,
       c.relname::text COLLATE "default" AS table_name,
       pg_catalog.pg_table_size(c.oid) - COALESCE(pg_catalog.pg_total_relation_size(c.reltoastrelid), 0) AS table_bytes,
       pg_catalog.pg_indexes_size(c.oid) AS index_bytes,
       COALESCE(pg_catalog.pg_total_relation_size(c.reltoastrelid), 0) AS toast_bytes,
       pg_catalog.pg_total_relation_size(c.oid) AS total_bytes,
       t.n_live_tup AS live_tuples,
       t.n_dead_tup AS dead_tuples,
       t.n_dead_tup::numeric / NULLIF(t.n_live_tup + t.n_dead_tup, 0) AS dead_tuple_ratio,
       t.n_tup_upd AS updates_total,
       t.n_tup_hot_upd AS hot_updates_total,
       t.n_tup_hot_upd::numeric / NULLIF(t.n_tup_upd, 0) AS hot_update_ratio,
       t.vacuum_count + t.autovacuum_count AS vacuums_total,
       t.last_vacuum,
       t.last_autovacuum,
       t.last_analyze,
       t.last_autoanalyze
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_stat_all_tables t ON t.relid = c.oid
WHERE c.relkind = 'r'
  AND (n.nspname = 'session_manager' OR c.oid = 'public."conversationSessions"'::regclass);
COMMENT ON VIEW session_manager.storage_stats IS 'Per table of session data (session_manager''s and "conversationSessions"): table, index and TOAST bytes, live and dead tuples, HOT-update ratio, last vacuum and analyze.';
COMMIT;
