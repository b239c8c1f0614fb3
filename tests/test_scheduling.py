"""The cleanup job in pg_cron: its name, schedule and command, one job after redeploys, revert
removing only it, and one real run of it by pg_cron (waiting on its run record)."""
from __future__ import annotations

import time

import psycopg
import pytest

from conftest import Server

JOB = "session_manager_cleanup_chat"


def jobs(server: Server, db: str) -> list[tuple[str, str, str, str]]:
    with psycopg.connect(server.dsn(db)) as conn:
        rows = conn.execute("SELECT jobname, schedule, command, database FROM cron.job ORDER BY jobname").fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def test_job_runs_cleanup_every_minute_in_its_database(server: Server, cron_db: str) -> None:
    assert (JOB, "* * * * *", "CALL session_manager.run_cleanup_job()", cron_db) in jobs(server, cron_db)


def test_redeploying_the_scheduling_change_leaves_one_job(server: Server, cron_db: str) -> None:
    for _ in range(2):
        server.sqitch("rebase", cron_db, "-y", "--onto", "schedule_cleanup^")
    assert [j for j in jobs(server, cron_db) if j[0] == JOB] == [
        (JOB, "* * * * *", "CALL session_manager.run_cleanup_job()", cron_db)]


def test_revert_removes_the_cleanup_job_and_only_it(server: Server, cron_db: str) -> None:
    with psycopg.connect(server.dsn(cron_db), autocommit=True) as conn:
        conn.execute("SELECT cron.schedule('someone_elses_job', '0 3 * * *', 'SELECT 1')")
    try:
        server.sqitch("revert", cron_db, "-y", "--to", "schedule_cleanup^")
        names = [j[0] for j in jobs(server, cron_db)]
        assert JOB not in names
        assert "someone_elses_job" in names
    finally:
        server.sqitch("deploy", cron_db)
        with psycopg.connect(server.dsn(cron_db), autocommit=True) as conn:
            conn.execute("SELECT cron.unschedule('someone_elses_job')")
    assert JOB in [j[0] for j in jobs(server, cron_db)]


def test_scheduling_without_pg_cron_fails_naming_what_to_configure(server: Server, db: str) -> None:
    dbname = db.rsplit("/", 1)[-1]
    server.sqitch("revert", dbname, "-y", "--to", "schedule_cleanup^")
    failed = server.sqitch("deploy", dbname, "--set", "schedule=on", check=False)
    assert failed.returncode != 0
    assert "shared_preload_libraries" in failed.stderr and "cron.database_name" in failed.stderr
    assert "schedule=off" in failed.stderr
    server.sqitch("deploy", dbname, "--set", "schedule=off")


@pytest.mark.slow
def test_pg_cron_itself_deactivates_idle_sessions(server: Server, cron_db: str) -> None:
    with psycopg.connect(server.dsn(cron_db), autocommit=True) as conn:
        conn.execute("""INSERT INTO public."user" (id, email) VALUES ('cron-user', 'c@example.com')
                        ON CONFLICT DO NOTHING""")
        conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity") VALUES
                        ('cron-idle', 'cron-user', 'geral', now() - interval '2 hours'),
                        ('cron-live', 'cron-user', 'geral', now())""")
        row = conn.execute("""SELECT coalesce(max(d.runid), 0) FROM cron.job_run_details d
                              JOIN cron.job j USING (jobid) WHERE j.jobname = %s""", (JOB,)).fetchone()
        assert row is not None
        last_run = row[0]
        deadline = time.monotonic() + 130  # pg_cron runs on the minute: at most ~60 s away
        run = None
        while run is None and time.monotonic() < deadline:
            run = conn.execute("""SELECT d.status, d.return_message
                                  FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                                  WHERE j.jobname = %s AND d.runid > %s AND d.status IN ('succeeded', 'failed')
                                  ORDER BY d.runid LIMIT 1""", (JOB, last_run)).fetchone()
            if run is None:
                time.sleep(0.5)
        assert run is not None, "pg_cron did not run the job within 130 s"
        assert run[0] == "succeeded", run[1]
        states = dict(conn.execute("""SELECT id, "isActive" FROM public."conversationSessions"
                                      WHERE id IN ('cron-idle', 'cron-live')""").fetchall())
        assert states == {"cron-idle": False, "cron-live": True}
        conn.execute("""DELETE FROM public."user" WHERE id = 'cron-user'""")
