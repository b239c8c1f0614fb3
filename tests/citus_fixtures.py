"""Fixtures of the Citus tests (tests/test_citus*.py, marked ``citus``: ``pytest -m citus``).

One real Citus cluster per run (a coordinator and two workers, scripts/pgcluster.py's
CitusCluster), started only when a Citus test runs and removed at the end. Its database ``chat``
(pg_cron's) gets the application's tables with seeded rows, their counts and checksums taken,
then the package by `sqitch deploy` with scheduling: the deploy distributes it. Loaded with
``pytest_plugins = ["citus_fixtures"]``.

Where Citus is not installed and ../shared/citus/ is absent (a user's machine without Citus's
packages), the tests skip with the message saying what to install; where ../shared/citus/ exists
(the development machines and CI) a missing Citus is a failure, never a skip.
"""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from pgcluster import CITUS_INSTALL, CITUS_MISSING, CRON_DATABASE, CitusCluster, citus_available

ROOT = Path(__file__).resolve().parent.parent
SEED_USERS, SEED_SESSIONS = 200, 2000

# The application's own columns, as checksums: what no deploy or revert may change.
APP_CHECKSUMS = {
    "user": """SELECT count(*), md5(string_agg(concat_ws('|', id, email, name, "createdAt"), ',' ORDER BY id))
               FROM public."user" """,
    "conversationSessions": """
        SELECT count(*), md5(string_agg(concat_ws('|', id, "userId", agent, title, "createdAt", "updatedAt"), ','
                                        ORDER BY id))
        FROM public."conversationSessions" """,
}


def checksums(dsn: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        out = {}
        for name, sql in APP_CHECKSUMS.items():
            row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
            assert row is not None
            out[name] = (int(row[0]), str(row[1]))
        return out


@dataclass
class CitusApp:
    """The deployed database on the Citus cluster."""

    cluster: CitusCluster
    dbname: str
    before: dict[str, tuple[int, str]]
    after: dict[str, tuple[int, str]]
    deploy_seconds: float
    deploy_output: str
    workers: list[int] = field(default_factory=list)

    def dsn(self, user: str = "postgres") -> str:
        return self.cluster.dsn(self.dbname, user)


def sqitch(cluster: CitusCluster, verb: str, dbname: str, *args: str,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SQITCH_FULLNAME": "pg-session-manager tests", "SQITCH_EMAIL": "tests@localhost"}
    proc = subprocess.run(["sqitch", verb, *args, cluster.sqitch_target(dbname)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"sqitch {verb} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def create_app_tables(cluster: CitusCluster, dbname: str, sessions: int = SEED_SESSIONS,
        users: int = SEED_USERS) -> None:
    dsn = cluster.dsn(dbname)
    for f, extra in (("app_schema.sql", []), ("app_seed.sql", ["-v", f"users={users}", "-v", f"sessions={sessions}"])):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", str(ROOT / "scripts" / f),
                *extra],
                       check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def citus_cluster() -> Iterator[CitusCluster]:
    if not citus_available() and not CITUS_INSTALL.exists():
        pytest.skip(CITUS_MISSING)
    assert citus_available(), CITUS_MISSING + " (bash scripts/setup.sh runs ../shared/citus/install.sh)"
    with CitusCluster(workers=2) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def citus_app(citus_cluster: CitusCluster) -> CitusApp:
    """pg_cron's database on the cluster: the application's tables seeded, then `sqitch deploy`."""
    create_app_tables(citus_cluster, CRON_DATABASE)
    with psycopg.connect(citus_cluster.dsn(CRON_DATABASE), autocommit=True) as conn:
        conn.execute("SET client_min_messages = warning")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
    before = checksums(citus_cluster.dsn(CRON_DATABASE))
    started = time.monotonic()
    proc = sqitch(citus_cluster, "deploy", CRON_DATABASE)
    took = time.monotonic() - started
    after = checksums(citus_cluster.dsn(CRON_DATABASE))  # before any test writes
    return CitusApp(citus_cluster, CRON_DATABASE, before, after, took, proc.stdout,
                    [w.port for w in citus_cluster.workers])
