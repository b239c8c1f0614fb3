-- Deploy pg-session-manager:monitoring/health_check to pg
-- requires: monitoring/health_check@v0.4.1 monitoring_vacuum_settings
-- Reworked: dead_tuples judges a table by autovacuum's own trigger and how long it has been past
-- it (seconds), no longer by its ratio of dead tuples (critical after 20 s of the demo's chat).
-- One row per check, for the on-call DBA's one query: is cleanup running, did it fail, is the
-- backlog of idle sessions growing, are touches slow, is a table bloating, is the tooling that
-- measures all this in place. A check is 'warning' when its value is above its *_warning
-- setting, 'critical' when above its *_critical one; threshold is the one reached (the warning
-- one while ok).
SET lock_timeout = '3s';
BEGIN;
-- SECURITY DEFINER: the checks read the settings, the sessions and the pg_cron records, none of
-- which the monitoring role may read itself.
CREATE OR REPLACE FUNCTION session_manager.health_check()
RETURNS TABLE(check_name text, status text, value numeric, threshold numeric, detail text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  cfg session_manager.settings;
  job record;
  sess record;
  worst record;
  last_cleanup timestamptz;
  last_cron_run timestamptz;
  ext_schema name;
BEGIN
  SELECT * INTO cfg FROM session_manager.settings;
  SELECT * INTO job FROM session_manager.cleanup_job_status();
  SELECT * INTO sess FROM session_manager.session_stats;

  -- cleanup_age: the last run over all users (a run scoped to one user does not count).
  check_name := 'cleanup_age';
  SELECT max(r.finished_at) INTO last_cleanup FROM session_manager.cleanup_runs r WHERE NOT r.scoped;
  IF last_cleanup IS NULL THEN
    status := 'warning'; value := NULL; threshold := NULL;
    detail := 'no cleanup run is recorded: schedule the job, or call cleanup_old_sessions()';
  ELSE
    value := trim_scale(round(EXTRACT(EPOCH FROM now() - last_cleanup), 3));
    SELECT l.status, l.threshold INTO status, threshold
    FROM session_manager.health_level(value, EXTRACT(EPOCH FROM cfg.health_cleanup_age_warning),
                                      EXTRACT(EPOCH FROM cfg.health_cleanup_age_critical)) l;
    detail := format('last cleanup finished at %s (seconds ago in value)', last_cleanup);
  END IF;
  RETURN NEXT;

  -- cleanup_failures: the job's latest runs that failed in a row, from pg_cron's records.
  check_name := 'cleanup_failures';
  IF job.job_state IN ('unknown', 'missing') THEN
    status := 'ok'; value := NULL; threshold := cfg.health_cleanup_failures_warning;
    detail := 'no pg_cron job run records in this database (see check pg_cron)';
  ELSE
    value := job.consecutive_failures;
    SELECT l.status, l.threshold INTO status, threshold
    FROM session_manager.health_level(value, cfg.health_cleanup_failures_warning, cfg.health_cleanup_failures_critical) l;
    detail := CASE WHEN job.consecutive_failures > 0
                   THEN format('the last %s run(s) of job %s failed; last failure at %s: %s', job.consecutive_failures,
                               job.job_name, job.last_failure_at, job.last_failure_message)
                   WHEN job.last_run_status IS NULL THEN format('job %s has no run recorded yet', job.job_name)
                   ELSE format('last run of job %s: %s at %s', job.job_name, job.last_run_status, job.last_run_started_at) END;
  END IF;
  RETURN NEXT;

  check_name := 'idle_backlog';
  value := sess.idle_backlog;
  SELECT l.status, l.threshold INTO status, threshold
  FROM session_manager.health_level(value, cfg.health_backlog_warning, cfg.health_backlog_critical) l;
  detail := format('%s active session(s) idle past idle_timeout (%s) and not yet cleaned', sess.idle_backlog, cfg.idle_timeout);
  RETURN NEXT;

  -- idle_backlog_age: a backlog that is not drained (cleanup stopped, or cannot keep up) ages.
  check_name := 'idle_backlog_age';
  value := trim_scale(round(sess.idle_backlog_oldest_seconds, 3));
  SELECT l.status, l.threshold INTO status, threshold
  FROM session_manager.health_level(value, EXTRACT(EPOCH FROM cfg.health_backlog_age_warning),
                                    EXTRACT(EPOCH FROM cfg.health_backlog_age_critical)) l;
  detail := 'seconds the oldest uncleaned session has been past idle_timeout';
  RETURN NEXT;

  -- touch_mean_time: cumulative since the statistics were reset (pg_stat_reset()); an exporter
  -- gives the recent mean as rate(total) / rate(calls).
  check_name := 'touch_mean_time';
  SELECT f.mean_ms INTO value FROM session_manager.function_stats f
  WHERE f.signature = 'session_manager.touch_session(text)';
  IF current_setting('track_functions') = 'none' THEN
    status := 'warning'; value := NULL; threshold := NULL;
    detail := 'track_functions = none: function times are not measured (set it to pl)';
  ELSIF value IS NULL THEN
    status := 'ok'; threshold := cfg.health_touch_mean_ms_warning;
    detail := 'no touch_session call recorded since the statistics were reset';
  ELSE
    value := trim_scale(round(value, 6));
    SELECT l.status, l.threshold INTO status, threshold
    FROM session_manager.health_level(value, cfg.health_touch_mean_ms_warning, cfg.health_touch_mean_ms_critical) l;
    detail := 'mean milliseconds per touch_session call since the statistics were reset';
  END IF;
  RETURN NEXT;

  -- dead_tuples: autovacuum's own question. A table is due a vacuum when its dead tuples exceed
  -- autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor x reltuples (the table's
  -- reloptions first, then the server's settings; reltuples -1, never counted, is 0 as in
  -- autovacuum.c). Being past it is normal: autovacuum visits every autovacuum_naptime (1 min).
  -- What is wrong is staying past it. How long a table has been past it is estimated from its
  -- statistics, assuming its dead tuples accrued at a steady rate since its last vacuum (or
  -- since the statistics began, at the latest the server's start): elapsed x (dead - trigger) /
  -- dead. While a vacuum of the table runs, it is at worst a warning.
  check_name := 'dead_tuples';
  SELECT t.* INTO worst
  FROM (
    SELECT n.nspname AS schema_name, c.relname AS table_name, s.n_dead_tup AS dead_tuples,
           o.base, o.scale, round(GREATEST(c.reltuples, 0)::numeric) AS reltuples,
           o.base + o.scale * GREATEST(c.reltuples, 0)::numeric AS vac_trigger,
           o.enabled AND current_setting('autovacuum')::boolean AS autovacuum_on,
           GREATEST(s.last_vacuum, s.last_autovacuum) AS last_vacuumed,
           EXISTS (SELECT 1 FROM pg_stat_progress_vacuum p WHERE p.relid = c.oid) AS vacuum_running,
           CASE WHEN s.n_dead_tup > o.base + o.scale * GREATEST(c.reltuples, 0)::numeric
                THEN EXTRACT(EPOCH FROM now() - COALESCE(GREATEST(s.last_vacuum, s.last_autovacuum),
                                                         (SELECT d.stats_reset FROM pg_stat_database d
                                                          WHERE d.datname = current_database()),
                                                         pg_postmaster_start_time()))
                     * (s.n_dead_tup - (o.base + o.scale * GREATEST(c.reltuples, 0)::numeric)) / s.n_dead_tup
                ELSE 0 END AS overdue_seconds
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_stat_all_tables s ON s.relid = c.oid
    CROSS JOIN LATERAL (
      SELECT COALESCE((SELECT r.option_value::numeric FROM pg_options_to_table(c.reloptions) r
                       WHERE r.option_name = 'autovacuum_vacuum_threshold'),
                      current_setting('autovacuum_vacuum_threshold')::numeric) AS base,
             COALESCE((SELECT r.option_value::numeric FROM pg_options_to_table(c.reloptions) r
                       WHERE r.option_name = 'autovacuum_vacuum_scale_factor'),
                      current_setting('autovacuum_vacuum_scale_factor')::numeric) AS scale,
             COALESCE((SELECT r.option_value::boolean FROM pg_options_to_table(c.reloptions) r
                       WHERE r.option_name = 'autovacuum_enabled'), true) AS enabled) o
    WHERE c.relkind = 'r'
      AND (n.nspname = 'session_manager' OR c.oid = 'public."conversationSessions"'::regclass)
      AND s.n_dead_tup >= cfg.health_dead_tuples_min
  ) t
  ORDER BY t.overdue_seconds DESC, t.dead_tuples / GREATEST(t.vac_trigger, 1) DESC
  LIMIT 1;
  IF NOT FOUND THEN
    status := 'ok'; value := 0; threshold := EXTRACT(EPOCH FROM cfg.health_vacuum_overdue_warning);
    detail := format('no session table has %s dead tuples or more', cfg.health_dead_tuples_min);
  ELSE
    value := trim_scale(round(worst.overdue_seconds, 1));
    SELECT l.status, l.threshold INTO status, threshold
    FROM session_manager.health_level(value, EXTRACT(EPOCH FROM cfg.health_vacuum_overdue_warning),
                                      EXTRACT(EPOCH FROM cfg.health_vacuum_overdue_critical)) l;
    IF worst.vacuum_running AND status = 'critical' THEN
      status := 'warning';
    END IF;
    detail := format('%I.%I: %s dead tuples, %s autovacuum''s trigger of %s (%s + %s x %s rows); last vacuum %s%s%s',
                     worst.schema_name, worst.table_name, worst.dead_tuples,
                     CASE WHEN worst.overdue_seconds > 0 THEN 'past' ELSE 'within' END,
                     round(worst.vac_trigger), trim_scale(worst.base), trim_scale(worst.scale), worst.reltuples,
                     COALESCE(worst.last_vacuumed::text, 'never'),
                     CASE WHEN worst.vacuum_running THEN '; a vacuum of it is running' ELSE '' END,
                     CASE WHEN NOT worst.autovacuum_on THEN '; autovacuum is off for it: VACUUM it yourself' ELSE '' END);
  END IF;
  RETURN NEXT;

  -- pg_cron: the job must exist and be active. Where pg_cron lives in another database, a run
  -- recorded by pg_cron (source cron) recently enough is proof the job is scheduled there.
  check_name := 'pg_cron';
  value := NULL; threshold := NULL;
  IF job.job_state = 'scheduled' THEN
    status := 'ok'; detail := format('job %s (id %s) scheduled %s', job.job_name, job.job_id, job.job_schedule);
  ELSIF job.job_state IN ('missing', 'inactive') THEN
    status := 'critical';
    detail := format('pg_cron is in this database but job %s is %s: no scheduled cleanup (sqitch deploy schedules it)',
                     job.job_name, job.job_state);
  ELSE
    SELECT max(r.finished_at) INTO last_cron_run FROM session_manager.cleanup_runs r WHERE r.source = 'cron';
    IF last_cron_run >= now() - cfg.health_cleanup_age_warning THEN
      status := 'ok';
      detail := format('pg_cron is not in this database; the job runs from pg_cron''s database (last run %s)', last_cron_run);
    ELSE
      status := 'warning';
      detail := 'pg_cron is not in this database and no recent run came from it: schedule the job with cron.schedule_in_database';
    END IF;
  END IF;
  RETURN NEXT;

  check_name := 'pg_stat_statements';
  value := NULL; threshold := NULL;
  SELECT n.nspname INTO ext_schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements';
  IF ext_schema IS NULL THEN
    status := 'warning';
    detail := 'pg_stat_statements is not installed in this database: statement_stats() returns no rows';
  ELSE
    BEGIN
      EXECUTE format('SELECT 1 FROM %I.pg_stat_statements_info', ext_schema);
      status := 'ok';
      detail := format('pg_stat_statements is installed in schema %I', ext_schema);
    EXCEPTION
      WHEN object_not_in_prerequisite_state THEN
        status := 'warning';
        detail := 'pg_stat_statements is installed but not loaded: add it to shared_preload_libraries and restart';
      WHEN undefined_table THEN
        status := 'warning';
        detail := 'pg_stat_statements is older than 1.9: ALTER EXTENSION pg_stat_statements UPDATE';
    END;
  END IF;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION session_manager.health_check() IS 'One row per health check (cleanup_age, cleanup_failures, idle_backlog, idle_backlog_age, touch_mean_time, dead_tuples: seconds a session table has been past autovacuum''s trigger, pg_cron, pg_stat_statements) with status ok, warning or critical, its value, the threshold reached and a detail for the on-call DBA.';
REVOKE EXECUTE ON FUNCTION session_manager.health_check() FROM PUBLIC;
COMMIT;
