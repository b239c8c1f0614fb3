"""Fixtures: one real PostgreSQL per run, one fresh database per test module.

The cluster is SESSION_MANAGER_TEST_DSN's server when that is set (it must have pg_cron and
pg_stat_statements preloaded for the scheduling and monitoring tests), otherwise the
throwaway cluster of scripts/pgcluster.py, stopped and removed at the end of the run (also
when the run is interrupted). A template database gets the application's tables and the
package deployed by sqitch once (without scheduling: pg_cron lives in one database per
cluster); each module's database is cloned from it with CREATE DATABASE ... TEMPLATE.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from pgcluster import CRON_DATABASE, EmbeddedCluster  # noqa: E402

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


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]  # noqa: PLC0415  (optional: testcontainers' dependency)

        return bool(docker.from_env().ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """SESSION_MANAGER_TEST_DSN's server; else, with SESSION_MANAGER_TESTCONTAINERS=1 and a Docker
    engine that answers, a PostgreSQL 15 container with pg_cron (SESSION_MANAGER_TEST_IMAGE);
    else the embedded throwaway cluster. These machines have no Docker engine: CI takes the last."""
    given = os.environ.get("SESSION_MANAGER_TEST_DSN")
    if given:
        yield Server(given)
        return
    if os.environ.get("SESSION_MANAGER_TESTCONTAINERS") == "1" and _docker_answers():
        from testcontainers.postgres import PostgresContainer  # type: ignore[import-untyped]  # noqa: PLC0415

        image = os.environ.get("SESSION_MANAGER_TEST_IMAGE")
        if not image:
            pytest.exit("SESSION_MANAGER_TESTCONTAINERS=1 needs SESSION_MANAGER_TEST_IMAGE "
                        "(a PostgreSQL 15 image with pg_cron)")
        container = PostgresContainer(image, username="postgres", password="postgres", dbname="postgres")
        container.with_command("postgres -c shared_preload_libraries=pg_cron,pg_stat_statements"
                               " -c cron.database_name=" + CRON_DATABASE + " -c cron.use_background_workers=on"
                               " -c track_functions=all -c pg_stat_statements.track=all")
        with container:
            url = container.get_connection_url(driver=None)
            srv = Server(url)
            srv.execute("postgres", f'CREATE DATABASE "{CRON_DATABASE}"')
            yield srv
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
