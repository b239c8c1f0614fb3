-- Deploy pg-session-manager:monitoring/cleanup_totals to pg
-- requires: cleanup_runs roles
-- cleanup_runs keeps only the latest cleanup_history_rows runs, so neither its latest run_id (ids
-- lost to rolled-back runs) nor its sums count every run: a Prometheus counter needs an exact,
-- never-decreasing total. A trigger counts each run in the transaction that records it, so the
-- totals move exactly with the history: a run counts when its record commits; trimming the
-- history never lowers them. Two cleanups never wait on each other (cleanup_old_sessions'
-- contract), so no run waits for the one counter row: each run inserts its own delta row, then
-- folds the committed deltas into the counter row if no other transaction holds it (SKIP
-- LOCKED); what it skips, a later run folds. The view adds the deltas not yet folded.
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

CREATE TABLE session_manager.cleanup_counter_deltas (
  delta_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  runs bigint NOT NULL,
  deactivated bigint NOT NULL,
  purged bigint NOT NULL
);
COMMENT ON TABLE session_manager.cleanup_counter_deltas IS 'Recorded cleanup runs not yet folded into cleanup_counter (usually none or one).';

CREATE FUNCTION session_manager.count_cleanup_run() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO session_manager.cleanup_counter_deltas (runs, deactivated, purged) VALUES (1, NEW.deactivated, NEW.purged);
  PERFORM 1 FROM session_manager.cleanup_counter c FOR UPDATE SKIP LOCKED;
  IF FOUND THEN
    WITH folded AS (
      DELETE FROM session_manager.cleanup_counter_deltas d
      WHERE d.delta_id IN (SELECT x.delta_id FROM session_manager.cleanup_counter_deltas x FOR UPDATE SKIP LOCKED)
      RETURNING d.runs, d.deactivated, d.purged)
    UPDATE session_manager.cleanup_counter c
    SET runs = c.runs + f.runs, deactivated = c.deactivated + f.deactivated, purged = c.purged + f.purged
    FROM (SELECT COALESCE(sum(runs), 0) AS runs, COALESCE(sum(deactivated), 0) AS deactivated,
                 COALESCE(sum(purged), 0) AS purged FROM folded) f;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION session_manager.count_cleanup_run() IS 'Trigger of cleanup_runs: adds each recorded run and its deactivated and purged sessions to cleanup_counter_deltas, and folds the committed deltas into cleanup_counter when no other transaction holds it.';
REVOKE EXECUTE ON FUNCTION session_manager.count_cleanup_run() FROM PUBLIC;
CREATE TRIGGER cleanup_runs_count AFTER INSERT ON session_manager.cleanup_runs
FOR EACH ROW EXECUTE FUNCTION session_manager.count_cleanup_run();

CREATE VIEW session_manager.cleanup_totals AS
SELECT c.runs + d.runs AS runs, c.deactivated + d.deactivated AS deactivated, c.purged + d.purged AS purged,
       c.counting_since
FROM session_manager.cleanup_counter c
CROSS JOIN (SELECT COALESCE(sum(x.runs), 0)::bigint AS runs, COALESCE(sum(x.deactivated), 0)::bigint AS deactivated,
                   COALESCE(sum(x.purged), 0)::bigint AS purged
            FROM session_manager.cleanup_counter_deltas x) d;
COMMENT ON VIEW session_manager.cleanup_totals IS 'Exact totals of the recorded cleanup runs and of the sessions they deactivated and purged, since counting_since (never decreasing; cleanup_history keeps only the latest runs).';
GRANT SELECT ON session_manager.cleanup_totals TO session_manager_monitor;
COMMIT;
