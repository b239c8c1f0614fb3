-- Deploy pg-session-manager:monitoring/statement_stats to pg
-- requires: schema
-- The statements that read or write the package's objects (the session functions' own
-- statements, recorded as nested ones with pg_stat_statements.track = all, and any other
-- statement naming session_manager or "conversationSessions"), from pg_stat_statements.
-- A function, not a view: a view could not be created, nor keep working, where the extension
-- is absent or not preloaded; this returns no rows then (health_check reports why).
-- SECURITY INVOKER on purpose: pg_stat_statements shows another role's statement text only to
-- members of pg_read_all_stats, and the package does not widen that (see docs/monitoring.md).
SET lock_timeout = '3s';
BEGIN;
CREATE FUNCTION session_manager.statement_stats()
RETURNS TABLE(queryid bigint, toplevel boolean, calls bigint, total_ms double precision, mean_ms double precision,
              rows bigint, shared_blks_hit bigint, shared_blks_read bigint, query text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  ext_schema name;
BEGIN
  SELECT n.nspname INTO ext_schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_stat_statements';
  IF ext_schema IS NULL THEN
    RETURN;
  END IF;
  -- The pattern is a parameter, so this statement's own text does not match it.
  RETURN QUERY EXECUTE format(
    'SELECT s.queryid, s.toplevel, s.calls, s.total_exec_time, s.mean_exec_time, s.rows,
            s.shared_blks_hit, s.shared_blks_read, s.query
     FROM %I.pg_stat_statements s
     WHERE s.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND s.query ~ $1
     ORDER BY s.total_exec_time DESC', ext_schema)
  USING 'session_manager\.|"conversationSessions"';
EXCEPTION
  -- 55000: created but not in shared_preload_libraries; 42703: an extension version older
  -- than 1.9 (no toplevel) that ALTER EXTENSION ... UPDATE would fix.
  WHEN object_not_in_prerequisite_state OR undefined_column THEN
    RETURN;
END
$$;
COMMENT ON FUNCTION session_manager.statement_stats() IS 'The pg_stat_statements entries of this database that name session_manager or "conversationSessions" (calls, total and mean ms, rows, blocks), most time first; no rows when pg_stat_statements is missing or not loaded.';
REVOKE EXECUTE ON FUNCTION session_manager.statement_stats() FROM PUBLIC;
COMMIT;
