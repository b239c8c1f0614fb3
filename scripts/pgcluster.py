#!/usr/bin/env python3
"""The throwaway PostgreSQL 15 cluster used by the demo, the tests and the benchmarks.

Standard library only, so it runs before the virtual environment exists.

    python3 scripts/pgcluster.py start DIR   # prints shell exports (PGHOST, PGPORT, ...)
    python3 scripts/pgcluster.py stop DIR    # stops the server and removes DIR
    python3 scripts/pgcluster.py conf        # SETTINGS as postgresql.conf lines (docker/postgresql.conf)
    python3 scripts/pgcluster.py start-citus DIR [WORKERS]   # a coordinator and WORKERS (2) workers
    python3 scripts/pgcluster.py stop-citus DIR

From Python: ``with CitusCluster(workers=2) as c: c.dsn("chat")`` (the coordinator's DSN).

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
from typing import Self

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


def as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class Throwaway:
    """Started on entering a with block; stopped and removed on leaving it, at exit, or on SIGTERM/SIGHUP."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self, remove: bool = True) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
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


class EmbeddedCluster(Throwaway):
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
                as_server_user([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]),
                check=True, stdout=subprocess.DEVNULL)
            conf = "\n".join(f"{k} = {v}" for k, v in self.settings.items())
            with open(self.data / "postgresql.auto.conf", "a") as f:
                f.write(f"\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n{conf}\n")
        else:  # restarting an existing directory keeps its port
            for line in (self.data / "postgresql.auto.conf").read_text().splitlines():
                if line.startswith("port = "):  # Citus's ALTER SYSTEM rewrites it quoted
                    self.port = int(line.split("=")[1].strip().strip("'"))
        subprocess.run(
            as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"),
                             "-w", "-t", "60", "start"]),
            check=True, stdout=subprocess.DEVNULL)
        self._started = True
        if not self.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{CRON_DATABASE}'"):
            self.psql("postgres", f'CREATE DATABASE "{CRON_DATABASE}"')
        return self

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args]),
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self, remove: bool = True) -> None:
        if self._started or (self.data / "postmaster.pid").exists():
            subprocess.run(as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                            "-w", "stop"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
            self._started = False
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- access --------------------------------------------------------------
    def dsn(self, dbname: str = CRON_DATABASE, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def sqitch_target(self, dbname: str) -> str:
        return f"db:pg://postgres@127.0.0.1:{self.port}/{dbname}"

    def psql(self, dbname: str, sql: str) -> str:
        out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(dbname),
                              "-c", sql], check=True, capture_output=True, text=True)
        return out.stdout.strip()


CITUS_INSTALL = Path(__file__).resolve().parent.parent.parent / "shared" / "citus" / "install.sh"
CITUS_MISSING = ("Citus for PostgreSQL 15 is not installed: install the package postgresql-15-citus-13.2 from "
                 "Citus's community repository (https://docs.citusdata.com, 'Install on Debian'), or run "
                 "../shared/citus/install.sh as root where it exists.")


def citus_available() -> bool:
    """True when PostgreSQL 15 has the citus extension's files (any install: Citus's packages or ours)."""
    share = subprocess.run([str(PG_BIN / "pg_config"), "--sharedir"], capture_output=True, text=True,
                           check=False).stdout.strip()
    return bool(share) and (Path(share) / "extension" / "citus.control").exists()


# What a Citus node needs on top of SETTINGS (../shared/CONTRACT.md, "Citus"): citus first in
# shared_preload_libraries; wal_level = logical and citus in output_plugin_libraries (PostgreSQL 15
# with Citus 13: create_distributed_table_concurrently streams the rows with logical decoding).
CITUS_SETTINGS = {
    "shared_preload_libraries": "'citus,pg_cron,pg_stat_statements'",
    "wal_level": "logical",
    "max_replication_slots": "20",
    "max_wal_senders": "20",
    "max_worker_processes": "32",
    # Citus's deferred drop of orphaned shards and its maintenance daemon: seconds, not minutes.
    "citus.defer_shard_delete_interval": "1000",
}


def _citus_settings() -> dict[str, str]:
    settings = dict(CITUS_SETTINGS)
    described = subprocess.run([str(PG_BIN / "postgres"), "--describe-config"], capture_output=True, text=True,
                               check=False).stdout
    plugins = [line.split("\t") for line in described.splitlines() if line.startswith("output_plugin_libraries\t")]
    if plugins:  # PostgreSQL 15.20 and later: logical decoding loads only the output plugins listed here
        settings["output_plugin_libraries"] = "'pgoutput, test_decoding, citus'"
    return settings


class CitusCluster(Throwaway):
    """A Citus coordinator and ``workers`` workers, each an EmbeddedCluster on a free port of
    127.0.0.1, with the administrator's steps done in ``databases`` (default: the demo's):
    the citus extension on every node, the coordinator's host set, the workers added, pg_cron
    on the coordinator (cron.database_name is the demo's database on every node; only the
    coordinator gets the pg_cron extension)."""

    def __init__(self, directory: str | None = None, workers: int = 2) -> None:
        self.dir = Path(directory or tempfile.mkdtemp(prefix="sm-citus-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        settings = _citus_settings()
        self.coordinator = EmbeddedCluster(str(self.dir / "coordinator"), extra_settings=settings)
        self.workers = [EmbeddedCluster(str(self.dir / f"worker{i + 1}"), extra_settings=settings)
                        for i in range(workers)]
        self.port = 0

    @property
    def nodes(self) -> list[EmbeddedCluster]:
        return [self.coordinator, *self.workers]

    def start(self) -> CitusCluster:
        if not citus_available():
            raise SystemExit(CITUS_MISSING)
        try:
            for node in self.nodes:
                node.start()
            self.port = self.coordinator.port
            self.prepare_database(CRON_DATABASE)
        except BaseException:
            self.stop()
            raise
        return self

    def prepare_database(self, dbname: str) -> None:
        """The administrator's steps for one database (idempotent): it exists on every node with
        the citus extension; the coordinator knows itself and the workers; pg_cron where it lives."""
        for node in self.nodes:
            if not node.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'"):
                node.psql("postgres", f'CREATE DATABASE "{dbname}"')
            node.psql(dbname, "CREATE EXTENSION IF NOT EXISTS citus")
        self.coordinator.psql(dbname, f"SELECT citus_set_coordinator_host('127.0.0.1', {self.coordinator.port})")
        for w in self.workers:
            self.coordinator.psql(dbname, f"SELECT citus_add_node('127.0.0.1', {w.port})")
        if dbname == CRON_DATABASE:
            self.coordinator.psql(dbname, "CREATE EXTENSION IF NOT EXISTS pg_cron")

    def stop(self, remove: bool = True) -> None:
        for node in reversed(self.nodes):
            node.stop(remove=remove)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dsn(self, dbname: str = CRON_DATABASE, user: str = "postgres") -> str:
        return self.coordinator.dsn(dbname, user)

    def sqitch_target(self, dbname: str) -> str:
        return self.coordinator.sqitch_target(dbname)

    def psql(self, dbname: str, sql: str) -> str:
        return self.coordinator.psql(dbname, sql)


def main(argv: list[str]) -> int:
    if argv[1:] == ["conf"]:
        sys.stdout.write(settings_conf())
        return 0
    if len(argv) >= 3 and argv[1] in ("start-citus", "stop-citus"):
        citus = CitusCluster(argv[2], workers=int(argv[3]) if len(argv) > 3 else 2)
        if argv[1] == "start-citus":
            citus.start()
            print(f"export PGHOST=127.0.0.1 PGPORT={citus.port} PGUSER=postgres PGDATABASE={CRON_DATABASE}")
            print("# workers: " + " ".join(str(w.port) for w in citus.workers))
        else:
            citus.stop()
        return 0
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print("usage: pgcluster.py start|stop DIR | start-citus|stop-citus DIR [WORKERS] | pgcluster.py conf",
              file=sys.stderr)
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
