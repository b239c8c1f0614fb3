"""Helpers of the exported-monitoring tests (tests/test_metrics_*.py, tests/test_monitoring_export_*.py).

Every process a test starts (the listener, prometheus-postgres-exporter, Prometheus, Chromium) listens on
a free port of 127.0.0.1 only, in its own process group, and is stopped by Processes.stop_all().
"""
from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from prometheus_client.parser import text_string_to_metric_families

from pgcluster import free_port

ROOT = Path(__file__).resolve().parent.parent
MONITORING = ROOT / "monitoring"
QUERIES = MONITORING / "postgres_exporter" / "queries.yaml"
ALERTS = MONITORING / "prometheus" / "alerts.yml"
DASHBOARD = MONITORING / "grafana" / "dashboard.json"

Sample = tuple[str, tuple[tuple[str, str], ...]]


def dsn_as(dsn: str, role: str) -> str:
    """The same database's DSN, connecting as `role` (the test cluster trusts local connections)."""
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{role}@{host}", parts.path, parts.query, parts.fragment))


def create_monitor_login(conn: psycopg.Connection) -> str:
    """A login role that is a member of session_manager_monitor and nothing else (drop it afterwards)."""
    name = "sm_monitor_" + uuid.uuid4().hex[:8]
    conn.execute(f"CREATE ROLE {name} LOGIN IN ROLE session_manager_monitor")
    return name


def parse_exposition(text: str) -> dict[Sample, float]:
    """Every sample of a Prometheus text exposition: (name, sorted labels) -> value."""
    out: dict[Sample, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = float(s.value)
    return out


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include `labels` (other labels, e.g. server, ignored)."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls)]
    assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
    return found[0]


def same(a: float, b: float, rel: float = 1e-9) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def http_get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status), r.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def wait_http(url: str, process: subprocess.Popen[Any] | None = None, timeout: float = 30.0) -> str:
    """GETs `url` until it answers 200; fails at once if `process` exited."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{process.args!r} exited with {process.returncode}")
        try:
            status, body = http_get(url, timeout=5)
            if status == 200:
                return body
            last = status
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout} s (last: {last})")


class Processes:
    """Child processes started by a test, each in its own process group, stopped (TERM, then KILL) at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.directory / f"{name}.log", "wb")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                start_new_session=True, cwd=ROOT)
        log.close()
        self.started.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @staticmethod
    def stop(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            self.stop(proc)


def start_listener(procs: Processes, dsn: str, name: str = "listener", sample_interval: float = 1.0) -> str:
    """`session-manager metrics --listen` on a free port of 127.0.0.1; returns its base URL once it answers."""
    port = free_port()
    proc = procs.start(name, [str(ROOT / ".venv" / "bin" / "python"), "-m", "session_manager", "--dsn", dsn,
                              "metrics", "--listen", f"127.0.0.1:{port}", "--sample-interval", str(sample_interval)])
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", proc)
    return base


def start_exporter(procs: Processes, dsn: str, name: str = "exporter") -> str:
    """Debian's prometheus-postgres-exporter with the package's queries file only; returns its /metrics URL."""
    port = free_port()
    parts = urlsplit(dsn)
    query = "sslmode=disable"
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    proc = procs.start(name, ["/usr/bin/prometheus-postgres-exporter", f"--extend.query-path={QUERIES}",
                              f"--web.listen-address=127.0.0.1:{port}", "--disable-default-metrics",
                              "--disable-settings-metrics", "--no-collector.database", "--no-collector.bgwriter",
                              "--log.level=warn"],
                       env={"DATA_SOURCE_NAME": url})
    metrics = f"http://127.0.0.1:{port}/metrics"
    wait_http(metrics, proc)
    return metrics
