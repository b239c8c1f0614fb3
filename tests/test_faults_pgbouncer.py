"""PgBouncer (Debian's package) in transaction pooling mode between the client and the server: the client's
whole test suite (tests/test_client_*.py) passes through it, with server-side prepared statements off.

The suite runs in a subprocess against a cluster of this module's own. tests/pgbouncer_site/sitecustomize.py
redirects every SessionManager and AsyncSessionManager of that process (and of the `session-manager`
commands it runs) to PgBouncer and turns prepared statements off where the test does not choose; the
fixtures' own superuser connections (CREATE DATABASE, roles, killing backends) still go to the server.
PgBouncer's SHOW STATS proves the client's traffic went through it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from fault_fixtures import PgBouncer, own_cluster
from pgcluster import EmbeddedCluster
from reliability_report import record_proof

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(__file__).resolve().parent / "pgbouncer_site"

# Client tests whose subject is the direct server connection itself, so PgBouncer changes what they
# observe (not what the client does): test id -> why.
DIRECT_ONLY = {
    "tests/test_client_pool.py::test_prepared_statements_can_be_turned_off_for_pgbouncer":
        "reads pg_prepared_statements of the backend it lands on: behind PgBouncer that backend is shared and "
        "outlives the client, so the True case leaves its statement for the False case to see (run through "
        "PgBouncer it failed for exactly that reason); prepared statements on is what PgBouncer 1.18 cannot carry",
    "tests/test_client_pool.py::test_a_multi_host_dsn_is_passed_through_untouched":
        "asserts the connection's port is the server's: through PgBouncer it is PgBouncer's",
}


@pytest.fixture(scope="module")
def bouncer() -> Iterator[tuple[EmbeddedCluster, PgBouncer]]:
    with own_cluster() as cluster:
        # auth_user: roles the tests create on the fly (monitoring, no grants) log in through PgBouncer too
        b = PgBouncer(cluster.port, auth_user="postgres").start()
        try:
            yield cluster, b
        finally:
            b.stop()


def bouncer_stats(b: PgBouncer) -> dict[str, int]:
    """Transactions and queries PgBouncer relayed, summed over the databases the client tests made."""
    out = subprocess.run(["psql", "-X", "-At", "-F", "|", "-h", "127.0.0.1", "-p", str(b.port), "-U", "postgres",
                          "-d", "pgbouncer", "-c", "SHOW STATS"], capture_output=True, text=True, check=True).stdout
    lines = [line.split("|") for line in out.splitlines() if line]
    totals = {"xacts": 0, "queries": 0}
    for cols in lines:
        if cols[0].startswith("sm_"):
            totals["xacts"] += int(cols[1])
            totals["queries"] += int(cols[2])
    return totals


@pytest.mark.slow
@pytest.mark.timeout(1000)  # the client's suite, however long it grows, is bounded by the subprocess's 900 s
def test_the_client_suite_passes_through_pgbouncer_in_transaction_mode(
        bouncer: tuple[EmbeddedCluster, PgBouncer], tmp_path: Path) -> None:
    cluster, b = bouncer
    report = tmp_path / "client-suite.xml"
    env = {**os.environ,
           "SESSION_MANAGER_TEST_DSN": cluster.dsn("postgres"),
           "SM_PGBOUNCER_REDIRECT": f"{cluster.port}:{b.port}",
           "PYTHONPATH": os.pathsep.join(p for p in (str(SITE), os.environ.get("PYTHONPATH", "")) if p)}
    tests = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_client_*.py"))
    args = [sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
            "-o", "addopts=-ra --strict-markers"]
    for test_id in DIRECT_ONLY:
        args += ["--deselect", test_id]
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    seconds = time.perf_counter() - started
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    stats = bouncer_stats(b)
    record_proof(
        "pgbouncer_client_suite", part=2, title="The client's test suite through PgBouncer (transaction pooling)",
        setup=f"PgBouncer 1.18 (Debian), pool_mode = transaction, default_pool_size = 20, in front of the test's own "
              f"cluster; client prepared_statements = False; {len(tests)} files: "
              f"{', '.join(Path(t).name for t in tests)}",
        tests_run=counts["tests"],
        passed=counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
        skipped=counts["skipped"],
        deselected_as_direct_only="; ".join(f"{t.split('::')[1]} ({why})" for t, why in DIRECT_ONLY.items()),
        relayed_by_pgbouncer=f"{stats['xacts']:,} transactions, {stats['queries']:,} queries",
        duration_s=round(seconds, 1),
        failures=counts["failures"] + counts["errors"],
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert counts["failures"] == counts["errors"] == 0
    assert stats["xacts"] > 1000, stats  # the client's calls really went through PgBouncer
