"""Monitoring that pgTAP cannot show inside one rolled-back transaction (issue 7): the job's
procedure, which commits, recording its runs; the estimates and counters of session_stats, which
come from statistics reported after commit; and the real pg_cron job, its runs recorded as
'cron' and a failed run reported by cleanup_job_status() and health_check()."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import Server


def one(conn: psycopg.Connection, sql: str, *args: Any) -> Any:
    row = conn.execute(sql, args).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0] if len(row) == 1 else row


@pytest.fixture()
def user(conn: psycopg.Connection) -> Iterator[str]:
    conn.execute("""INSERT INTO public."user" (id, email) VALUES ('mon-user', 'mon@example.com')""")
    yield "mon-user"
    conn.execute("""DELETE FROM public."user" WHERE id = 'mon-user'""")


def test_the_job_procedure_called_by_hand_records_a_direct_run(conn: psycopg.Connection, user: str) -> None:
    insert = """INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity", "isActive", "createdAt")
                SELECT %s || i, %s, 'geral', now() - %s::interval, %s, now() - %s::interval
                FROM generate_series(1, %s) AS i"""
    conn.execute(insert, ("mon-idle-", user, "2 hours", True, "2 hours", 7))  # type: ignore[arg-type]
    conn.execute(insert, ("mon-old-", user, "40 days", False, "40 days", 1))  # type: ignore[arg-type]
    conn.execute("UPDATE session_manager.settings SET retention = interval '30 days', cleanup_batch_size = 3")
    try:
        last = one(conn, "SELECT coalesce(max(run_id), 0) FROM session_manager.cleanup_runs")
        conn.execute("CALL session_manager.run_cleanup_job()")
        rows = conn.execute("""SELECT source, scoped, deactivated, purged, duration_ms >= 0
                               FROM session_manager.cleanup_history WHERE run_id > %s""", (last,)).fetchall()
    finally:
        conn.execute("UPDATE session_manager.settings SET retention = NULL, cleanup_batch_size = DEFAULT")
    # One row for the whole run, though it committed after each batch of 3.
    assert rows == [("direct", False, 7, 1, True)]


def test_concurrent_cleanups_do_not_wait_on_each_other_to_trim_the_history(db: str, conn: psycopg.Connection) -> None:
    conn.execute("UPDATE session_manager.settings SET cleanup_history_rows = 1")
    try:
        for _ in range(3):
            conn.execute("SELECT session_manager.cleanup_old_sessions()")
        with psycopg.connect(db) as first, psycopg.connect(db) as second:
            one(first, "SELECT session_manager.cleanup_old_sessions()")  # trims, and holds its transaction open
            second.execute("SET lock_timeout = '2s'")
            assert one(second, "SELECT session_manager.cleanup_old_sessions()") == 0, "the second run did not wait"
            second.commit()
            first.commit()
        assert one(conn, "SELECT count(*) FROM session_manager.cleanup_runs") <= 2
    finally:
        conn.execute("UPDATE session_manager.settings SET cleanup_history_rows = DEFAULT")


def test_session_stats_estimates_and_counters_follow_committed_rows(server: Server, db: str, user: str) -> None:
    def stats(conn: psycopg.Connection) -> Any:
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return one(conn, """SELECT active_sessions, inactive_sessions_estimate, messages_estimate,
                                   sessions_created_total, messages_appended_total
                            FROM session_manager.session_stats""")

    with psycopg.connect(db, autocommit=True) as conn:
        before = stats(conn)
        conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "isActive")
                        SELECT 'mon-est-' || i, %s, 'geral', i > 4 FROM generate_series(1, 10) AS i""", (user,))
        for i in range(5):
            conn.execute("SELECT session_manager.append_message('mon-est-9', 'user', %s)", (f"message {i}",))
        after = stats(conn)
        exact = one(conn, """SELECT (SELECT count(*) FROM public."conversationSessions" WHERE NOT "isActive"),
                                    (SELECT count(*) FROM session_manager.messages)""")
    assert after[0] - before[0] == 6
    assert (after[1], after[2]) == exact, "with statistics up to date, the estimates are exact"
    assert (after[3] - before[3], after[4] - before[4]) == (10, 5)


@pytest.mark.slow
def test_pg_cron_runs_are_recorded_and_a_failed_run_is_reported(server: Server, cron_db: str) -> None:
    """Waits on pg_cron's own records: one successful run (if none is recorded yet), then one failed."""
    with psycopg.connect(server.dsn(cron_db), autocommit=True) as conn:
        deadline = time.monotonic() + 130  # pg_cron runs on the minute
        while not one(conn, "SELECT count(*) FROM session_manager.cleanup_history WHERE source = 'cron'"):
            assert time.monotonic() < deadline, "no run of the job recorded within 130 s"
            time.sleep(0.5)
        status = one(conn, "SELECT job_state, last_run_status FROM session_manager.cleanup_job_status()")
        assert status[0] == "scheduled"
        health = dict(conn.execute("SELECT check_name, status FROM session_manager.health_check()").fetchall())
        assert health["pg_cron"] == "ok" and health["cleanup_age"] == "ok"

        # Make the job fail at its last step: the history write.
        conn.execute("""CREATE FUNCTION public.mon_refuse() RETURNS trigger LANGUAGE plpgsql AS
                        $$BEGIN RAISE EXCEPTION 'monitoring test: refused'; END$$""")
        conn.execute("""CREATE TRIGGER mon_refuse BEFORE INSERT ON session_manager.cleanup_runs
                        FOR EACH ROW EXECUTE FUNCTION public.mon_refuse()""")
        try:
            last = one(conn, """SELECT coalesce(max(d.runid), 0)
                                FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                                WHERE j.jobname = 'session_manager_cleanup_' || current_database()""")
            deadline = time.monotonic() + 130
            while not one(conn, """SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                                   WHERE j.jobname = 'session_manager_cleanup_' || current_database()
                                     AND d.runid > %s AND d.status = 'failed'""", last):
                assert time.monotonic() < deadline, "the job did not fail within 130 s"
                time.sleep(0.5)
        finally:
            conn.execute("DROP TRIGGER mon_refuse ON session_manager.cleanup_runs")
            conn.execute("DROP FUNCTION public.mon_refuse()")
        status = one(conn, """SELECT last_run_status, last_failure_message, consecutive_failures
                              FROM session_manager.cleanup_job_status()""")
        assert status[0] == "failed" and "monitoring test: refused" in status[1] and status[2] >= 1
        check = one(conn, """SELECT status, detail FROM session_manager.health_check()
                             WHERE check_name = 'cleanup_failures'""")
        assert check[0] == "warning" and "monitoring test: refused" in check[1]
