-- Deploy pg-session-manager:monitoring/cleanup_job_status to pg
-- requires: schema
-- The scheduled cleanup job as pg_cron sees it: whether it is there and active, its last run,
-- its last failure and message, how many of its latest runs failed in a row. pg_cron lives in
-- one database per cluster; elsewhere cron.job does not exist and the state is 'unknown'.
-- SECURITY DEFINER: cron.job and cron.job_run_details show each role only its own jobs (and
-- the monitoring role has no USAGE on schema cron); the owner is the role that scheduled the
-- job. Every statement on cron is dynamic, so the function exists where pg_cron does not.
SET lock_timeout = '3s';
BEGIN;
CREATE FUNCTION session_manager.cleanup_job_status()
RETURNS TABLE(job_state text, job_name text, job_id bigint, job_schedule text,
              last_run_started_at timestamptz, last_run_finished_at timestamptz, last_run_status text,
              last_success_at timestamptz, last_failure_at timestamptz, last_failure_message text,
              consecutive_failures integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  active boolean;
  last_success_run bigint;
BEGIN
  job_name := 'session_manager_cleanup_' || current_database();
  IF to_regclass('cron.job') IS NULL OR to_regclass('cron.job_run_details') IS NULL THEN
    job_state := 'unknown';
    RETURN NEXT;
    RETURN;
  END IF;
  EXECUTE 'SELECT j.jobid, j.schedule, j.active FROM cron.job j WHERE j.jobname = $1 ORDER BY j.jobid DESC LIMIT 1'
    INTO job_id, job_schedule, active USING job_name;
  IF job_id IS NULL THEN
    job_state := 'missing';
    RETURN NEXT;
    RETURN;
  END IF;
  job_state := CASE WHEN active THEN 'scheduled' ELSE 'inactive' END;
  EXECUTE 'SELECT d.start_time, d.end_time, d.status FROM cron.job_run_details d
           WHERE d.jobid = $1 ORDER BY d.runid DESC LIMIT 1'
    INTO last_run_started_at, last_run_finished_at, last_run_status USING job_id;
  EXECUTE 'SELECT d.runid, d.end_time FROM cron.job_run_details d
           WHERE d.jobid = $1 AND d.status = ''succeeded'' ORDER BY d.runid DESC LIMIT 1'
    INTO last_success_run, last_success_at USING job_id;
  EXECUTE 'SELECT d.end_time, d.return_message FROM cron.job_run_details d
           WHERE d.jobid = $1 AND d.status = ''failed'' ORDER BY d.runid DESC LIMIT 1'
    INTO last_failure_at, last_failure_message USING job_id;
  EXECUTE 'SELECT count(*)::integer FROM cron.job_run_details d
           WHERE d.jobid = $1 AND d.status = ''failed'' AND d.runid > $2'
    INTO consecutive_failures USING job_id, COALESCE(last_success_run, 0);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION session_manager.cleanup_job_status() IS 'One row: the cleanup job''s state (scheduled, inactive, missing, or unknown where pg_cron is not in this database), its last run, last success, last failure with its message, and how many latest runs failed in a row.';
REVOKE EXECUTE ON FUNCTION session_manager.cleanup_job_status() FROM PUBLIC;
COMMIT;
