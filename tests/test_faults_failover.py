"""Failover: a primary and a streaming-replication standby made with pg_basebackup -R on loopback ports.
A client with a multi-host DSN (target_session_attrs=read-write) chats through the primary; the primary
is stopped and the standby promoted; the client carries on against the new primary by itself, every
acknowledged message is there, and pg_cron (background workers, cron.database_name = 'chat' on both)
runs the cleanup job on the promoted standby.
"""
from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from fault_fixtures import as_server_user, deploy_package, own_cluster, pg_ctl, scalar, server_of, wait_for
from pgcluster import PG_BIN, EmbeddedCluster, free_port
from reliability_report import record_proof
from session_manager import SessionManager, SessionManagerError

JOB = "session_manager_cleanup_chat"
IDLE_SEEDED = 2_000
RECOVERY_BOUND = 30.0
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[EmbeddedCluster, EmbeddedCluster]]:
    """(primary, standby): the package deployed and scheduled in the primary's `chat`, replicated."""
    with own_cluster() as primary:
        hba = (primary.data / "pg_hba.conf").read_text()
        # initdb --auth=trust already lets 127.0.0.1 replicate; say so, so a change of initdb's defaults shows
        assert any(line.split()[:4] == ["host", "replication", "all", "127.0.0.1/32"] for line in hba.splitlines()
                   if line.strip() and not line.startswith("#")), hba
        server = server_of(primary)
        deploy_package(server, "chat", schedule=True)
        standby = EmbeddedCluster(port=free_port())
        standby.dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chown", "postgres:postgres", str(standby.dir)], check=False)
        standby.dir.chmod(0o700)
        try:
            subprocess.run(as_server_user([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                                           "-U", "postgres", "-D", str(standby.data), "-R", "-X", "stream",
                                           "-c", "fast"]), check=True, capture_output=True)
            # the copy carries the primary's postgresql.auto.conf (its settings, pg_cron's included); the
            # standby listens elsewhere (a later line wins)
            with open(standby.data / "postgresql.auto.conf", "a") as f:
                f.write(f"\nport = {standby.port}\nunix_socket_directories = '{standby.dir}'\n")
            standby.start()
            yield primary, standby
        finally:
            standby.stop()


def standby_caught_up(primary: EmbeddedCluster, standby: EmbeddedCluster) -> bool | None:
    lsn = scalar(primary.dsn("chat"), "SELECT pg_current_wal_lsn()::text")
    caught = scalar(standby.dsn("chat"), "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))
    return True if caught else None


@pytest.mark.slow
def test_promoted_standby_serves_the_client_and_runs_the_cleanup_job(
        pair: tuple[EmbeddedCluster, EmbeddedCluster]) -> None:
    primary, standby = pair
    assert scalar(standby.dsn("chat"), "SELECT pg_is_in_recovery()") is True
    assert scalar(standby.dsn("chat"), "SHOW cron.database_name") == "chat"
    multi_host = (f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/chat"
                  "?target_session_attrs=read-write")

    with psycopg.connect(primary.dsn("chat"), autocommit=True) as conn:
        conn.execute("""INSERT INTO public."user" (id, email) VALUES ('fo-user', 'fo@example.com'),
                        ('fo-idle', 'idle@example.com')""")

    acked: list[tuple[str, str]] = []  # (message_id, content)
    errors: list[str] = []
    served_after: list[float] = []
    stop = threading.Event()
    longest = [0.0]

    def chat(m: SessionManager) -> None:
        s = m.get_or_create_session("fo-user", "geral", chat_id="5511999999999@c.us")
        i = 0
        while not stop.is_set():
            i += 1
            started = time.time()
            try:
                s = m.get_or_create_session("fo-user", "geral", chat_id="5511999999999@c.us")
                msg = m.append_message(s.session_id, "user", f"message {i}")
            except SessionManagerError as exc:
                errors.append(f"{type(exc).__name__}: {exc.message}")
                longest[0] = max(longest[0], time.time() - started)
                time.sleep(0.05)
                continue
            longest[0] = max(longest[0], time.time() - started)
            acked.append((str(msg.message_id), msg.content))
            served_after.append(time.time())
            time.sleep(0.01)

    with SessionManager(multi_host, min_size=2, max_size=2, timeout=TIMEOUT) as m:
        with m.connection() as c:
            assert c.info.port == primary.port
        worker = threading.Thread(target=chat, args=(m,))
        worker.start()
        try:
            time.sleep(2)
            wait_for("the standby to replay the primary's WAL", lambda: standby_caught_up(primary, standby), 30)
            acked_before = len(acked)
            fault_start = time.time()
            stop_s = pg_ctl(primary, "stop", "-m", "fast", "-w")  # a clean switchover: WAL sent to the standby
            promote_s = pg_ctl(standby, "promote", "-w", "-t", "60")
            promoted = time.time()
            wait_for("the client served by the new primary",
                     lambda: True if any(t > promoted for t in served_after) else None, RECOVERY_BOUND)
            recovery_s = min(t for t in served_after if t > promoted) - fault_start
            time.sleep(1)
        finally:
            stop.set()
            worker.join(TIMEOUT * 3)
        with m.connection() as c:
            assert c.info.port == standby.port
        context = [x.content for x in m.get_context(m.get_or_create_session(
            "fo-user", "geral", chat_id="5511999999999@c.us").session_id, 10_000)]

    new_primary = standby.dsn("chat")
    assert scalar(new_primary, "SELECT pg_is_in_recovery()") is False
    with psycopg.connect(new_primary, autocommit=True) as conn:
        stored = dict(conn.execute("SELECT message_id::text, content FROM session_manager.messages").fetchall())
    lost = [a for a in acked if stored.get(a[0]) != a[1]]
    assert not lost, f"acknowledged messages missing on the new primary: {lost[:5]}"
    # one chat, one session: its messages in the order they were acknowledged, across the failover
    assert context == [c for _, c in acked], "the conversation's order changed across the failover"

    # pg_cron on the promoted standby: sessions idle for two hours, then a run of the job that started
    # after they were written, waited on by its run record
    with psycopg.connect(new_primary, autocommit=True) as conn:
        conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity")
                        SELECT 'fo-idle-' || i, 'fo-idle', 'geral', now() - interval '2 hours'
                        FROM generate_series(1, %s) i""", (IDLE_SEEDED,))
    seeded = time.time()

    def job_run() -> tuple[Any, ...] | None:
        return scalar_row(new_primary, """SELECT d.status, d.return_message, d.start_time
                                          FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                                          WHERE j.jobname = %s AND d.start_time > to_timestamp(%s)
                                            AND d.status IN ('succeeded', 'failed')
                                          ORDER BY d.runid LIMIT 1""", (JOB, seeded))
    run = wait_for("a run of the cleanup job on the promoted standby", job_run, 130, interval=0.5)
    assert run[0] == "succeeded", run[1]
    cleaned = scalar(new_primary, """SELECT count(*) FROM public."conversationSessions"
                                     WHERE "userId" = 'fo-idle' AND NOT "isActive" """)
    assert cleaned == IDLE_SEEDED
    # In libpq mode (cron.use_background_workers = off) pg_cron would connect to the job's nodename:nodeport,
    # which cron.schedule set to the primary's port: the standby must listen on the same port for that mode.
    node = scalar_row(new_primary, "SELECT nodename, nodeport FROM cron.job WHERE jobname = %s", (JOB,))
    assert node == ("localhost", primary.port), node

    # The hazard a DBA must fence: the old primary started again as it was is a second primary, first in
    # the client's host list, so a new connection goes there and writes diverge.
    pg_ctl(primary, "start", "-w", "-t", "60")
    try:
        with SessionManager(multi_host, min_size=1, max_size=1, timeout=TIMEOUT) as fresh, fresh.connection() as c:
            split_brain_port = c.info.port
    finally:
        pg_ctl(primary, "stop", "-m", "fast", "-w")
    assert split_brain_port == primary.port
    record_proof(
        "failover_promoted_standby", part=2, title="Failover to a promoted streaming standby",
        setup="primary + standby (pg_basebackup -R -X stream) on 127.0.0.1; package deployed and scheduled on the "
              "primary; standby with the same postgresql.auto.conf (pg_cron in chat, background workers)",
        load="one chat appending through a SessionManager on "
             "postgresql://127.0.0.1:P1,127.0.0.1:P2/chat?target_session_attrs=read-write",
        faults_injected=f"pg_ctl stop -m fast on the primary ({stop_s:.2f} s), pg_ctl promote on the standby "
                        f"({promote_s:.2f} s)",
        recovery_s=f"{recovery_s:.2f} (first acknowledged append on the new primary, from the primary's stop)",
        recovery_bound_s=RECOVERY_BOUND,
        calls_failed_during_failover=f"{len(errors)} ({sorted(set(e.split(':')[0] for e in errors))})",
        longest_call_s=round(longest[0], 2),
        messages_checked=f"{len(acked)} acknowledged ({acked_before} before the failover), all on the new primary, "
                         "in order",
        cleanup_job=f"pg_cron ran {JOB} on the promoted standby at {run[2]:%H:%M:%S} "
                    f"({(run[2].timestamp() - promoted):.0f} s after the promotion): {cleaned:,} idle sessions "
                    "deactivated",
        hazards_verified="cron.job.nodeport is the old primary's port (libpq mode needs the same port on the "
                         "standby); the old primary restarted without standby.signal is a second primary and a new "
                         "client connection goes to it (first in the DSN's host list): fence it, rejoin it as a "
                         "standby (pg_rewind)",
        failures="0 acknowledged messages lost",
    )


def scalar_row(dsn: str, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    with contextlib.closing(psycopg.connect(dsn, autocommit=True, connect_timeout=5)) as conn:
        return conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
