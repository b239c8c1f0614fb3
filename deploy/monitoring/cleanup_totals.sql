-- Deploy pg-session-manager:monitoring/cleanup_totals to pg
-- requires: cleanup_runs roles
-- cleanup_runs keeps only the latest cleanup_history_rows runs, so neither its latest run_id (ids
-- lost to rolled-back runs) nor its sums count every run: a Prometheus counter needs an exact,
-- never-decreasing total. One row, updated by a trigger in the same transaction that records a
-- run, so the totals move exactly with the history: a run counts when its record commits. Trimming
-- the history never lowers them. Concurrent runs queue on this row only for their last
-- transaction's commit (runs are a minute apart).
SET lock_timeout = '3s';
BEGIN;
CREATE TABLE session_manager.cleanup_counter (
  one boolean PRIMARY KEY DEFAULT true CONSTRAINT cleanup_counter_one_row CHECK (one),
  runs bigint NOT NULL CONSTRAINT cleanup_counter_runs_not_negative CHECK (runs >= 0),
  deactivated bigint NOT NULL CONSTRAINT cleanup_counter_deactivated_not_negative CHECK (deactivated >= 0),
  purged bigint NOT NULL CONSTRAINT cleanup_counter_purged_not_negative CHECK (purged >= 0),
  counting_since timestamptz NOT NULL
);
COMMENT ON TABLE session_manager.cleanup_counter IS 'One row: every recorded cleanup run, and the sessions they deactivated and purged, since counting_since.';
-- Runs recorded before this change count from what the history still holds.
INSERT INTO session_manager.cleanup_counter (runs, deactivated, purged, counting_since)
SELECT count(*), COALESCE(sum(r.deactivated), 0), COALESCE(sum(r.purged), 0), COALESCE(min(r.started_at), now())
FROM session_manager.cleanup_runs r;

CREATE FUNCTION session_manager.count_cleanup_run() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE session_manager.cleanup_counter c
  SET runs = c.runs + 1, deactivated = c.deactivated + NEW.deactivated, purged = c.purged + NEW.purged;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION session_manager.count_cleanup_run() IS 'Trigger of cleanup_runs: adds each recorded run and its deactivated and purged sessions to cleanup_counter.';
REVOKE EXECUTE ON FUNCTION session_manager.count_cleanup_run() FROM PUBLIC;
CREATE TRIGGER cleanup_runs_count AFTER INSERT ON session_manager.cleanup_runs
FOR EACH ROW EXECUTE FUNCTION session_manager.count_cleanup_run();

CREATE VIEW session_manager.cleanup_totals AS
SELECT c.runs, c.deactivated, c.purged, c.counting_since FROM session_manager.cleanup_counter c;
COMMENT ON VIEW session_manager.cleanup_totals IS 'Exact totals of the recorded cleanup runs and of the sessions they deactivated and purged, since counting_since (never decreasing; cleanup_history keeps only the latest runs).';
GRANT SELECT ON session_manager.cleanup_totals TO session_manager_monitor;
COMMIT;
