"""Fixtures: one real PostgreSQL per run, one fresh database per test module.

The cluster is SESSION_MANAGER_TEST_DSN's server when that is set (it must have pg_cron and
pg_stat_statements preloaded for the scheduling and monitoring tests); with
SESSION_MANAGER_TESTCONTAINERS=1, a container of the test image (docker/) started by
testcontainers; otherwise the throwaway cluster of scripts/pgcluster.py. Either is stopped and
removed at the end of the run (also when the run is interrupted). A template database gets the
application's tables and the package deployed by sqitch once (without scheduling: pg_cron lives
in one database per cluster); each module's database is cloned from it with CREATE DATABASE ... TEMPLATE.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from pgcluster import CRON_DATABASE, EmbeddedCluster, free_port  # noqa: E402

TEMPLATE = "sm_template"


@dataclass
class Server:
    """Where the tests' databases live: a base DSN whose database part is replaced."""

    base_dsn: str

    def dsn(self, dbname: str, user: str | None = None) -> str:
        parts = urlsplit(self.base_dsn)
        netloc = parts.netloc
        if user is not None:
            netloc = user + "@" + netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, netloc, "/" + dbname, parts.query, parts.fragment))

    def sqitch_target(self, dbname: str) -> str:
        return "db:" + self.dsn(dbname).replace("postgresql://", "pg://", 1)

    def execute(self, dbname: str, sql: str) -> None:
        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def psql_file(self, dbname: str, path: Path, **variables: str) -> None:
        args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(dbname), "-f", str(path)]
        for k, v in variables.items():
            args += ["-v", f"{k}={v}"]
        subprocess.run(args, check=True, capture_output=True, text=True)

    def sqitch(self, verb: str, dbname: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SQITCH_FULLNAME": "pg-session-manager tests", "SQITCH_EMAIL": "tests@localhost"}
        proc = subprocess.run(["sqitch", verb, *args, self.sqitch_target(dbname)], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"sqitch {verb} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def create_app_database(self, dbname: str, *, seed_sessions: int = 0) -> None:
        """A database as the application has it before the package: its tables, maybe rows."""
        self.execute("postgres", f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        self.execute("postgres", f'CREATE DATABASE "{dbname}"')
        self.psql_file(dbname, ROOT / "scripts" / "app_schema.sql")
        if seed_sessions:
            self.psql_file(dbname, ROOT / "scripts" / "app_seed.sql",
                           sessions=str(seed_sessions), users=str(max(1, seed_sessions // 10)))

    def clone(self, dbname: str, template: str = TEMPLATE) -> str:
        self.execute("postgres", f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        self.execute("postgres", f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"')
        return self.dsn(dbname)

    def drop(self, dbname: str) -> None:
        self.execute("postgres", f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _docker_client() -> Any:
    """docker-py's client for DOCKER_HOST (or the default socket) when the engine answers, else None."""
    try:
        import docker  # type: ignore[import-untyped]  # noqa: PLC0415  (optional: testcontainers' dependency)

        client = docker.from_env()
        client.ping()
        return client
    except Exception:
        return None


def _dockerfile_image(client: Any) -> str:
    """docker/Dockerfile's image, tagged by a hash of docker/'s files: built when absent, else reused."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "docker").iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    name = "pg-session-manager-test:dockerfile-" + digest.hexdigest()[:16]
    try:
        client.images.get(name)
    except Exception:
        # The host's network: an engine without a bridge (dockerd --bridge=none) gives RUN no other.
        client.images.build(path=str(ROOT / "docker"), tag=name, rm=True, network_mode="host")
    return name


def _host_network_postgres() -> type:
    from testcontainers.community.postgres import PostgresContainer  # noqa: PLC0415

    class HostNetworkPostgres(PostgresContainer):
        """testcontainers' PostgresContainer on the host's network, on a free port of 127.0.0.1.

        The engines here run without a bridge (dockerd --bridge=none), so no port can be mapped:
        the server listens on the port itself (the image reads PGPORT, and so does the psql of
        testcontainers' readiness check inside the container). docker-py refuses host networking
        together with exposed ports, so the exposed port is dropped; the address and port are then
        127.0.0.1 and that port, not a mapping's."""

        def __init__(self, image: str, port: int, **kwargs: Any) -> None:
            super().__init__(image, port=port, **kwargs)
            self.ports.clear()
            self.with_env("PGPORT", str(port))

        def get_container_host_ip(self) -> str:
            return "127.0.0.1"

        def _get_exposed_port(self, port: int) -> int:
            return port

    return HostNetworkPostgres


def _say(config: pytest.Config, line: str) -> None:
    """A line on the terminal from a fixture (whose output pytest otherwise captures)."""
    terminal, capture = (config.pluginmanager.get_plugin(n) for n in ("terminalreporter", "capturemanager"))
    if terminal is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            terminal.write_line(line)


def _containers_server(client: Any, config: pytest.Config) -> Iterator[Server]:
    """A PostgreSQL container for the run: started, its readiness timed, removed at the end (also on
    SIGTERM/SIGHUP; scripts/test.sh --testcontainers also removes whatever carries its run label)."""
    image = os.environ.get("SESSION_MANAGER_TEST_IMAGE") or _dockerfile_image(client)
    run = os.environ.get("SESSION_MANAGER_TEST_RUN", uuid.uuid4().hex[:12])
    container = _host_network_postgres()(image, port=free_port(), username="postgres", password="postgres",
                                         dbname="postgres")
    # network= (not network_mode=) also keeps testcontainers from choosing a network of its own;
    # shm_size: parallel queries' dynamic shared memory outgrows Docker's 64 MB /dev/shm.
    container.with_kwargs(network="host", shm_size="512m",
                          labels={"pg-session-manager.tests": run})

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # As Ctrl-C does: pytest stops and tears the fixtures down, this one removing the container.
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        started = time.monotonic()
        with container:  # removed on the way out (testcontainers' stop: kill and remove)
            ready = time.monotonic() - started
            url = container.get_connection_url(driver=None)
            _say(config, f"testcontainers: {image} ready at {url.rsplit('@', 1)[-1]} in {ready:.2f} s"
                         f" (container {container.get_wrapped_container().short_id})")
            srv = Server(url)
            with psycopg.connect(srv.dsn("postgres"), autocommit=True) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (CRON_DATABASE,)).fetchone() is None:
                    conn.execute(f'CREATE DATABASE "{CRON_DATABASE}"')
            yield srv
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """SESSION_MANAGER_TEST_DSN's server; else, with SESSION_MANAGER_TESTCONTAINERS=1, a container
    of the test image (SESSION_MANAGER_TEST_IMAGE, or docker/Dockerfile built and cached) that
    testcontainers starts on the Docker engine of DOCKER_HOST or the default socket, and the run
    stops at once when that engine does not answer; else the embedded throwaway cluster."""
    given = os.environ.get("SESSION_MANAGER_TEST_DSN")
    if given:
        yield Server(given)
        return
    if os.environ.get("SESSION_MANAGER_TESTCONTAINERS") == "1":
        client = _docker_client()
        if client is None:
            pytest.exit("SESSION_MANAGER_TESTCONTAINERS=1, but no Docker engine answers at "
                        + os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
                        + ": start one, or run `bash scripts/test.sh --testcontainers`, which starts its own",
                        returncode=3)
        os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")  # Ryuk's image is pulled: no registry here
        yield from _containers_server(client, request.config)
        return
    with EmbeddedCluster() as cluster:
        yield Server(cluster.dsn("postgres"))


@pytest.fixture(scope="session")
def template(server: Server) -> str:
    """The deployed template every module's database is cloned from."""
    server.create_app_database(TEMPLATE)
    server.execute(TEMPLATE, "CREATE EXTENSION IF NOT EXISTS pgtap")
    server.sqitch("deploy", TEMPLATE, "--set", "schedule=off")
    return TEMPLATE


@pytest.fixture(scope="session")
def cron_db(server: Server) -> str:
    """pg_cron's database (cron.database_name), with the package deployed and scheduled."""
    dbname = CRON_DATABASE
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()
    if row is None or row[0] != dbname:
        pytest.skip("this server's pg_cron does not live in the database " + dbname)
    with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
        present = conn.execute("SELECT to_regclass('public.\"conversationSessions\"') IS NOT NULL").fetchone()
    if not (present and present[0]):
        server.psql_file(dbname, ROOT / "scripts" / "app_schema.sql")
    server.execute(dbname, "CREATE EXTENSION IF NOT EXISTS pg_cron")
    server.sqitch("deploy", dbname)
    return dbname


@pytest.fixture(scope="module")
def db(server: Server, template: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for this module, cloned from the deployed template; its DSN."""
    dbname = "sm_" + request.module.__name__.rsplit(".", 1)[-1][:40] + "_" + uuid.uuid4().hex[:6]
    dsn = server.clone(dbname, template)
    yield dsn
    server.drop(dbname)


@pytest.fixture()
def conn(db: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the module's database, as the superuser."""
    with psycopg.connect(db, autocommit=True) as c:
        yield c
