"""Helpers of the fault proofs (tests/test_faults_*.py): clusters of their own, PgBouncer, timing.

A fault test restarts, kills, promotes or proxies a server; the session-wide cluster of conftest.py
is shared by every other test, so these start their own throwaway clusters (scripts/pgcluster.py)
on free ports of 127.0.0.1, and stop and remove them at the end, also when a run is interrupted.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from conftest import Server
from pgcluster import PG_BIN, EmbeddedCluster, free_port

ROOT = Path(__file__).resolve().parent.parent
PGBOUNCER = Path("/usr/sbin/pgbouncer")

# What a production server has and the throwaway default turns off: a proof that acknowledged
# commits survive a crash (pg_ctl stop -m immediate) means nothing with synchronous_commit off.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}

T = TypeVar("T")


def as_server_user(cmd: list[str]) -> list[str]:
    """initdb, postgres and pgbouncer refuse to run as root: run them as postgres when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def own_cluster(**settings: str) -> Iterator[EmbeddedCluster]:
    """A cluster of the test's own (pg_cron in `chat`, as the embedded default), removed at the end."""
    cluster = EmbeddedCluster(extra_settings=settings)
    atexit.register(cluster.stop)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        atexit.unregister(cluster.stop)


def server_of(cluster: EmbeddedCluster) -> Server:
    return Server(cluster.dsn("postgres"))


def deploy_package(server: Server, dbname: str, *, seed_sessions: int = 0, schedule: bool = False) -> str:
    """The application's database with the package deployed by sqitch (scheduled only if asked); its DSN."""
    if schedule:  # pg_cron's database: it exists already (the cluster made it); add the app's tables
        server.psql_file(dbname, ROOT / "scripts" / "app_schema.sql")
        if seed_sessions:
            server.psql_file(dbname, ROOT / "scripts" / "app_seed.sql", sessions=str(seed_sessions),
                             users=str(max(1, seed_sessions // 10)))
        server.execute(dbname, "CREATE EXTENSION IF NOT EXISTS pg_cron")
        server.sqitch("deploy", dbname)
    else:
        server.create_app_database(dbname, seed_sessions=seed_sessions)
        server.sqitch("deploy", dbname, "--set", "schedule=off")
    return server.dsn(dbname)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.1) -> T:
    """Polls `probe` until it returns something other than None (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except AssertionError:
            raise
        except Exception as exc:
            last = exc
        else:
            if value is not None:
                return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:g} s (last error: {last!r})")


def scalar(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """One value from a fresh autocommit connection."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    return None if row is None else row[0]


def pg_ctl(cluster: EmbeddedCluster, *args: str) -> float:
    """Runs pg_ctl on the cluster (logging to its server.log); the seconds it took."""
    started = time.perf_counter()
    subprocess.run(as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-l",
                                   str(cluster.dir / "server.log"), *args]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


class PgBouncer:
    """Debian's pgbouncer on a free port of 127.0.0.1, in front of one server: every database name is
    passed through (`* = ...`), transaction pooling, trust authentication (users listed in auth_file)."""

    def __init__(self, server_port: int, users: tuple[str, ...] = ("postgres",), pool_size: int = 20,
                 **settings: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sm-pgbouncer-"))
        self.port = free_port()
        self.server_port = server_port
        self.users = users
        self.settings = {
            "listen_addr": "127.0.0.1", "listen_port": str(self.port), "unix_socket_dir": "",
            "auth_type": "trust", "auth_file": str(self.dir / "userlist.txt"),
            "pool_mode": "transaction", "default_pool_size": str(pool_size), "max_client_conn": "500",
            "max_db_connections": "0", "server_reset_query": "", "ignore_startup_parameters": "extra_float_digits",
            "logfile": str(self.dir / "pgbouncer.log"), "admin_users": "postgres",
            **settings,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PgBouncer:
        (self.dir / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in self.users))
        ini = ["[databases]", f"* = host=127.0.0.1 port={self.server_port}", "", "[pgbouncer]"]
        ini += [f"{k} = {v}" for k, v in self.settings.items()]
        (self.dir / "pgbouncer.ini").write_text("\n".join(ini) + "\n")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for p in (self.dir, *self.dir.iterdir()):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self.process = subprocess.Popen(as_server_user([str(PGBOUNCER), str(self.dir / "pgbouncer.ini")]),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        atexit.register(self.stop)
        wait_for("pgbouncer listening", lambda: scalar(self.dsn("postgres"), "SELECT 1"), 15)
        return self

    def dsn(self, dbname: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # runuser forwards the signal to pgbouncer; the whole session is ours alone (start_new_session)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None
        atexit.unregister(self.stop)
