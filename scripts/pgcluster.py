#!/usr/bin/env python3
"""The throwaway PostgreSQL 15 cluster used by the demo, the tests and the benchmarks.

Standard library only, so it runs before the virtual environment exists.

    python3 scripts/pgcluster.py start DIR   # prints shell exports (PGHOST, PGPORT, ...)
    python3 scripts/pgcluster.py stop DIR    # stops the server and removes DIR
    python3 scripts/pgcluster.py conf        # SETTINGS as postgresql.conf lines (docker/postgresql.conf)

From Python: ``with EmbeddedCluster() as c: c.dsn("chat")``.  initdb and postgres
refuse to run as root, so when we are root the server runs as the ``postgres``
user on a directory that user owns.
"""
from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType, TracebackType

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# pg_cron lives in exactly one database per cluster: the demo's.
CRON_DATABASE = "chat"

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "shared_preload_libraries": "'pg_cron,pg_stat_statements'",
    "cron.database_name": f"'{CRON_DATABASE}'",
    "cron.use_background_workers": "on",
    "max_worker_processes": "16",
    "track_functions": "'all'",
    "pg_stat_statements.track": "'all'",
    "max_connections": "200",
    "shared_buffers": "'256MB'",
    # A throwaway cluster: durability buys nothing here and costs test time.
    # The benchmark report states these settings.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "replica",
    "max_wal_size": "'2GB'",
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",
    "TimeZone": "'UTC'",
}


def settings_conf() -> str:
    """SETTINGS as postgresql.conf lines: the test image's docker/postgresql.conf is this output."""
    lines = ["# The embedded cluster's settings (scripts/pgcluster.py SETTINGS), for the test image.",
             "# Made by `python3 scripts/pgcluster.py conf > docker/postgresql.conf`;",
             "# tests/test_image_inputs.py fails when the two differ."]
    return "\n".join([*lines, *(f"{k} = {v}" for k, v in SETTINGS.items())]) + "\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class EmbeddedCluster:
    """A PostgreSQL cluster in a temporary directory, on a free port of 127.0.0.1."""

    def __init__(self, directory: str | None = None, port: int | None = None,
                 extra_settings: dict[str, str] | None = None) -> None:
        self.dir = Path(directory or tempfile.mkdtemp(prefix="sm-pg-"))
        self.data = self.dir / "data"
        self.port = port or free_port()
        self.settings = {**SETTINGS, **(extra_settings or {})}
        self._started = False

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> EmbeddedCluster:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.dir.chmod(0o700)
        if not (self.data / "PG_VERSION").exists():
            subprocess.run(
                _as_server_user([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]),
                check=True, stdout=subprocess.DEVNULL)
            conf = "\n".join(f"{k} = {v}" for k, v in self.settings.items())
            with open(self.data / "postgresql.auto.conf", "a") as f:
                f.write(f"\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n{conf}\n")
        else:  # restarting an existing directory keeps its port
            for line in (self.data / "postgresql.auto.conf").read_text().splitlines():
                if line.startswith("port = "):
                    self.port = int(line.split("=")[1])
        subprocess.run(
            _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"),
                             "-w", "-t", "60", "start"]),
            check=True, stdout=subprocess.DEVNULL)
        self._started = True
        if not self.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{CRON_DATABASE}'"):
            self.psql("postgres", f'CREATE DATABASE "{CRON_DATABASE}"')
        return self

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args]),
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self, remove: bool = True) -> None:
        if self._started or (self.data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                            "-w", "stop"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
            self._started = False
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedCluster:
        self.start()
        atexit.register(self.stop)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop()
        sys.exit(128 + signum)

    # -- access --------------------------------------------------------------
    def dsn(self, dbname: str = CRON_DATABASE, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def sqitch_target(self, dbname: str) -> str:
        return f"db:pg://postgres@127.0.0.1:{self.port}/{dbname}"

    def psql(self, dbname: str, sql: str) -> str:
        out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(dbname),
                              "-c", sql], check=True, capture_output=True, text=True)
        return out.stdout.strip()


def main(argv: list[str]) -> int:
    if argv[1:] == ["conf"]:
        sys.stdout.write(settings_conf())
        return 0
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print("usage: pgcluster.py start|stop DIR | pgcluster.py conf", file=sys.stderr)
        return 2
    cluster = EmbeddedCluster(argv[2])
    if argv[1] == "start":
        cluster.start()
        print(f"export PGHOST=127.0.0.1 PGPORT={cluster.port} PGUSER=postgres PGDATABASE={CRON_DATABASE}")
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
