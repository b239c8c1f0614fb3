"""A backend running the cleanup killed with pg_terminate_backend in the middle of a batch: no batch is ever
half applied, and the next run finishes the work.

200,000 idle sessions. A statement-level trigger (the test's own, on the application's table) logs each
UPDATE that deactivates sessions, in the UPDATE's own transaction: a committed batch leaves one log row
with its size, a rolled-back one leaves nothing. The trigger can also hold the victim's batch after its
UPDATE and before its commit (pg_sleep), so the kill lands exactly mid-batch; a third kill lands at a
random moment of an unheld run. After each kill, the sessions deactivated are exactly the committed
batches: count(inactive) = sum(log) = a whole number of full batches.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from fault_fixtures import deploy_package, own_cluster, scalar, server_of, wait_for
from reliability_report import record_proof
from session_manager import ConnectionLostError, SessionManager

SESSIONS = 200_000
HELD_BATCH = 5_000
RANDOM_BATCH = 1_000

INSTRUMENT = """
CREATE TABLE public.fault_batch_log (txid bigint NOT NULL, scenario text NOT NULL, deactivated integer NOT NULL);
CREATE FUNCTION public.fault_log_batch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  n integer;
  this_scenario text := coalesce(pg_catalog.current_setting('fault.scenario', true), '');
  hold_after integer := nullif(pg_catalog.current_setting('fault.hold_after', true), '')::integer;
BEGIN
  SELECT pg_catalog.count(*) INTO n FROM old_rows o JOIN new_rows w ON o.id = w.id
  WHERE o."isActive" AND NOT w."isActive";
  IF n > 0 THEN
    INSERT INTO public.fault_batch_log VALUES (pg_catalog.txid_current(), this_scenario, n);
    -- this batch's UPDATE is done and not committed: hold it here until the test kills the backend
    IF hold_after IS NOT NULL
       AND (SELECT pg_catalog.count(*) FROM public.fault_batch_log l WHERE l.scenario = this_scenario) > hold_after THEN
      PERFORM pg_catalog.pg_sleep(120);
    END IF;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER fault_log_batch AFTER UPDATE ON public."conversationSessions"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION public.fault_log_batch();
"""


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    with own_cluster() as cluster:
        dsn = deploy_package(server_of(cluster), "sm_cleanup_kill")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("""INSERT INTO public."user" (id, email)
                            SELECT 'kill-user-' || i, 'kill' || i || '@example.com' FROM generate_series(1, 1000) i""")
            conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity")
                            SELECT 'idle-' || i, 'kill-user-' || (1 + i %% 1000), 'geral', now() - interval '2 hours'
                            FROM generate_series(1, %s) i""", (SESSIONS,))
            conn.execute("VACUUM ANALYZE public.\"conversationSessions\"")
            conn.execute(INSTRUMENT)  # type: ignore[arg-type]
        yield dsn


def state(dsn: str, scenario: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("""SELECT (SELECT count(*) FROM public."conversationSessions" WHERE NOT "isActive"),
                                     (SELECT coalesce(sum(deactivated), 0) FROM public.fault_batch_log),
                                     (SELECT coalesce(array_agg(deactivated ORDER BY txid), '{}')
                                      FROM public.fault_batch_log WHERE scenario = %s),
                                     (SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                                      WHERE c.relname = 'conversationSessions' AND l.pid <> pg_backend_pid())""",
                           (scenario,)).fetchone()
    assert row is not None
    return {"inactive": row[0], "logged": row[1], "batches": list(row[2]), "locks_left": row[3]}


def kill_when(dsn: str, app: str, condition: str, victim: threading.Thread, out: dict[str, Any],
              timeout: float = 60) -> float:
    """Waits until the backend of `app` matches `condition` (SQL on pg_stat_activity), terminates it."""
    def probe() -> float | None:
        assert victim.is_alive(), f"the victim ended before the kill: {out}"
        ok = scalar(dsn, f"""SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                             WHERE application_name = %s AND ({condition})""", (app,))
        return time.time() if ok else None
    return wait_for(f"the backend of {app} to be killed", probe, timeout, interval=0.02)


def run_in_thread(target: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = target()
        except Exception as exc:
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    return t, out


def victim_dsn(dsn: str, app: str, scenario: str, hold_after: int | None) -> str:
    options = f"-c fault.scenario={scenario}" + (f" -c fault.hold_after={hold_after}" if hold_after is not None else "")
    return psycopg.conninfo.make_conninfo(dsn, application_name=app, options=options)


def set_batch_size(dsn: str, size: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE session_manager.settings SET cleanup_batch_size = %s", (size,))
        # The job's own pause between batches is a pg_sleep too: without it, the only PgSleep the kill
        # waits for is the instrumented one that holds a batch.
        if scalar(dsn, """SELECT count(*) FROM pg_attribute WHERE attrelid = 'session_manager.settings'::regclass
                          AND attname = 'cleanup_batch_pause'"""):
            conn.execute("UPDATE session_manager.settings SET cleanup_batch_pause = '0'")


@pytest.mark.slow
def test_killed_cleanup_never_leaves_half_a_batch_and_the_next_run_finishes(dsn: str) -> None:
    figures: dict[str, Any] = {}
    has_runs = scalar(dsn, "SELECT to_regclass('session_manager.cleanup_runs') IS NOT NULL")
    runs_before = scalar(dsn, "SELECT count(*) FROM session_manager.cleanup_runs") if has_runs else 0

    # 1. cleanup_old_sessions (one transaction) through the client, killed in its third batch: nothing
    #    at all is applied, and the client does not retry it (never retried, by contract).
    set_batch_size(dsn, HELD_BATCH)
    with SessionManager(victim_dsn(dsn, "victim-function", "function", 2), min_size=1, max_size=1,
                        timeout=10.0) as m:
        t, out = run_in_thread(m.cleanup_old_sessions)
        kill_when(dsn, "victim-function", "wait_event = 'PgSleep'", t, out)
        t.join(30)
        retries = m.call_stats()["cleanup_old_sessions"].retries
    assert isinstance(out.get("error"), ConnectionLostError), out
    assert retries == 0
    s = state(dsn, "function")
    assert s == {"inactive": 0, "logged": 0, "batches": [], "locks_left": 0}, s
    figures["kill_1"] = ("cleanup_old_sessions via the client, killed holding batch 3 of 5,000 (its UPDATE done, "
                         "not committed): 0 sessions deactivated, the client raised ConnectionLostError, no retry")

    # 2. run_cleanup_job (commits per batch), killed holding its fourth batch: exactly three batches stay.
    with psycopg.connect(victim_dsn(dsn, "victim-job", "job", 3), autocommit=True) as victim:
        t, out = run_in_thread(lambda: victim.execute("CALL session_manager.run_cleanup_job()"))
        kill_when(dsn, "victim-job", "wait_event = 'PgSleep'", t, out)
        t.join(30)
    assert isinstance(out.get("error"), psycopg.OperationalError), out
    s = state(dsn, "job")
    assert s["batches"] == [HELD_BATCH] * 3, s
    assert s["inactive"] == s["logged"] == 3 * HELD_BATCH and s["locks_left"] == 0, s
    figures["kill_2"] = (f"run_cleanup_job, killed holding batch 4 of {HELD_BATCH:,}: {s['inactive']:,} deactivated "
                         f"= 3 committed batches, the held batch rolled back whole")

    # 3. run_cleanup_job with batches of 1,000, killed at a random moment of an unheld run.
    set_batch_size(dsn, RANDOM_BATCH)
    before = s["inactive"]
    delay = random.Random().uniform(0.2, 1.0)
    with psycopg.connect(victim_dsn(dsn, "victim-random", "random", None), autocommit=True) as victim:
        t, out = run_in_thread(lambda: victim.execute("CALL session_manager.run_cleanup_job()"))
        wait_for("the job running", lambda: scalar(dsn, """SELECT 1 FROM pg_stat_activity
                 WHERE application_name = 'victim-random' AND state = 'active'"""), 30, interval=0.01)
        time.sleep(delay)
        kill_when(dsn, "victim-random", "state = 'active'", t, out)
        t.join(30)
    s = state(dsn, "random")
    random_killed = "error" in out
    assert all(n == RANDOM_BATCH for n in s["batches"][:-1]) and s["locks_left"] == 0, s
    assert s["inactive"] == s["logged"] and s["inactive"] - before == sum(s["batches"]), s
    if random_killed and s["inactive"] < SESSIONS:
        assert (s["inactive"] - before) % RANDOM_BATCH == 0, s
    figures["kill_3"] = (f"run_cleanup_job, killed {delay:.2f} s into an unheld run with batches of "
                         f"{RANDOM_BATCH:,}: {s['inactive'] - before:,} deactivated = {len(s['batches'])} "
                         f"committed batches" + ("" if random_killed else " (the run finished before the kill)"))

    # 4. The next run finishes the work.
    remaining = SESSIONS - s["inactive"]
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CALL session_manager.run_cleanup_job()")
    finish_s = time.perf_counter() - started
    s = state(dsn, "")
    assert s["inactive"] == s["logged"] == SESSIONS and s["locks_left"] == 0, s
    runs_after = scalar(dsn, "SELECT count(*) FROM session_manager.cleanup_runs") if has_runs else 0
    if has_runs:  # only runs that committed to the end are recorded: the last one, not the three killed
        assert runs_after - runs_before == 1
    record_proof(
        "cleanup_backend_killed", part=2, title="A backend running a cleanup batch killed with pg_terminate_backend",
        load=f"{SESSIONS:,} idle sessions; batches of {HELD_BATCH:,} (held kills) and {RANDOM_BATCH:,} (random kill)",
        faults_injected="3 pg_terminate_backend: mid-batch in cleanup_old_sessions, mid-batch in run_cleanup_job, "
                        "at a random moment of run_cleanup_job",
        **figures,
        next_run=f"run_cleanup_job deactivated the remaining {remaining:,} "
                 f"in {finish_s:.2f} s; all {SESSIONS:,} inactive",
        rows_checked=f"{SESSIONS:,} sessions; every committed batch from the trigger's log",
        cleanup_runs_recorded=(runs_after - runs_before) if has_runs else "n/a (no cleanup_runs table)",
        failures="0 half-applied batches, 0 locks left behind",
    )
