"""Prometheus metrics of pg-session-manager (the optional extra: ``session_manager[metrics]``).

Two kinds of figures, two prefixes:

- ``session_manager_*``: the database's figures, read from the package's monitoring views and functions
  (session_stats, storage_stats, function_stats, cleanup_history, cleanup_job_status(), health_check()),
  which a member of ``session_manager_monitor`` may read. The same names as
  ``monitoring/postgres_exporter/queries.yaml`` gives Debian's postgres_exporter.
- ``session_manager_client_*``: this process's calls (counts, errors, retries, a latency histogram per
  method) and its connection pool.

    from prometheus_client import start_http_server
    from session_manager.metrics import register, register_database

    register(sessions)              # the application's SessionManager or AsyncSessionManager: client_*
    register_database(monitor)      # a SessionManager connected as a monitor-role member: session_manager_*
    start_http_server(9188, addr="127.0.0.1")

``read_metrics(manager)`` returns the database's figures as one typed, frozen snapshot (``Metrics``).
Everything is read at scrape time; the calls themselves only count into the histogram's buckets.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import psycopg
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry

from . import queries
from .errors import SessionManagerError
from .models import CleanupJobStatus, HealthCheck, SessionStats
from .pool import CALL_BUCKETS

__all__ = [
    "CLIENT_BUCKETS",
    "CleanupRun",
    "CleanupSummary",
    "DatabaseCollector",
    "FunctionTiming",
    "SnapshotCollector",
    "Metrics",
    "SessionManagerCollector",
    "TableStorage",
    "database_families",
    "exposition",
    "read_cleanup_runs",
    "read_function_timings",
    "read_metrics",
    "read_metrics_async",
    "register",
    "register_database",
]

# --- What this module reads through ---------------------------------------------------------------------
# The dependency runs one way: manager.py imports this module (lazily, for SessionManager.metrics()), and
# this module needs of a manager only a pooled connection, described here rather than imported.

class ConnectionSource(Protocol):
    """A SessionManager, or anything else lending a pooled psycopg connection."""

    def connection(self) -> AbstractContextManager[psycopg.Connection[Any]]: ...


class AsyncConnectionSource(Protocol):
    """An AsyncSessionManager, or anything else lending a pooled psycopg AsyncConnection."""

    def connection(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]: ...


# --- The SQL the exporter sends (monitoring objects only: what session_manager_monitor may read) ---------

# Summed per name: an overloaded function would otherwise give two series with the same labels.
FUNCTION_STATS = (
    "SELECT function_name, sum(calls)::bigint, sum(total_ms), sum(self_ms)"
    " FROM session_manager.function_stats GROUP BY function_name ORDER BY function_name"
)

STORAGE_STATS = (
    "SELECT schema_name, table_name, table_bytes, index_bytes, toast_bytes, live_tuples, dead_tuples,"
    " hot_update_ratio, updates_total, hot_updates_total, vacuums_total,"
    " GREATEST(last_vacuum, last_autovacuum)"
    " FROM session_manager.storage_stats ORDER BY schema_name, table_name"
)

# The exact totals come from the one-row cleanup_totals (the history keeps only the latest runs); the
# LIMIT 1 reads one end of cleanup_runs' index on finished_at (the latest whole-table run, as health_check's
# cleanup_age).
CLEANUP_SUMMARY = (
    "SELECT t.runs, t.deactivated, t.purged, l.finished_at, l.duration_ms, l.deactivated"
    " FROM session_manager.cleanup_totals AS t LEFT JOIN LATERAL (SELECT h.finished_at, h.duration_ms, h.deactivated"
    "   FROM session_manager.cleanup_history h WHERE NOT h.scoped ORDER BY h.finished_at DESC LIMIT 1) AS l ON true"
)

CLEANUP_RUNS_SINCE = (
    "SELECT run_id, started_at, finished_at, duration_ms, source, scoped, deactivated, purged"
    " FROM session_manager.cleanup_history WHERE finished_at >= now() - %s::interval ORDER BY run_id"
)

DATABASE_NOW = "SELECT current_database(), now()"


# --- The typed snapshot ------------------------------------------------------------------------------------

def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class FunctionTiming:
    """One function of the package in ``session_manager.function_stats`` (cumulative since the stats reset)."""

    function: str
    calls: int
    total_seconds: float
    self_seconds: float

    @property
    def mean_seconds(self) -> float | None:
        return self.total_seconds / self.calls if self.calls else None


@dataclass(frozen=True, slots=True)
class TableStorage:
    """One table of session data in ``session_manager.storage_stats``."""

    schema: str
    table: str
    heap_bytes: int
    index_bytes: int
    toast_bytes: int
    live_tuples: int
    dead_tuples: int
    hot_update_ratio: float | None
    updates_total: int
    hot_updates_total: int
    vacuums_total: int
    last_vacuum_at: datetime | None


@dataclass(frozen=True, slots=True)
class CleanupSummary:
    """The latest cleanup runs (``session_manager.cleanup_history``).

    runs_total, deactivated_total, purged_total: exact totals of the recorded runs
    (``session_manager.cleanup_totals``); last_success_*: the latest committed run that cleaned all users
    (a run scoped to one user does not count, as in health_check's cleanup_age).
    """

    runs_total: int
    deactivated_total: int
    purged_total: int
    last_success_at: datetime | None
    last_duration_seconds: float | None
    last_deactivated: int | None


@dataclass(frozen=True, slots=True)
class CleanupRun:
    """One row of ``session_manager.cleanup_history``."""

    run_id: int
    started_at: datetime
    finished_at: datetime
    duration_seconds: float
    source: str
    scoped: bool
    deactivated: int
    purged: int


@dataclass(frozen=True, slots=True)
class Metrics:
    """What the database says about its sessions, read in one transaction (one statistics snapshot)."""

    database: str
    collected_at: datetime
    sessions: SessionStats
    cleanup: CleanupSummary
    cleanup_job: CleanupJobStatus
    health: tuple[HealthCheck, ...]
    functions: tuple[FunctionTiming, ...]
    tables: tuple[TableStorage, ...]

    @property
    def worst_status(self) -> str:
        """'critical', 'warning' or 'ok': the worst of the health checks."""
        return max((c.status for c in self.health), key=lambda s: HEALTH_LEVELS.get(s, 2), default="ok")


# health_check()'s statuses as session_manager_health_status's values.
HEALTH_LEVELS = {"ok": 0, "warning": 1, "critical": 2}


def _metrics(database: str, now: datetime, results: Sequence[list[tuple[Any, ...]]]) -> Metrics:
    stats, summary, job, health, functions, tables = results
    s = summary[0]
    return Metrics(
        database=database,
        collected_at=now,
        sessions=SessionStats.from_row(stats[0]),
        cleanup=CleanupSummary(runs_total=int(s[0]), deactivated_total=int(s[1]), purged_total=int(s[2]),
                               last_success_at=s[3], last_duration_seconds=(
                                   None if s[4] is None else float(s[4]) / 1000), last_deactivated=s[5]),
        cleanup_job=CleanupJobStatus.from_row(job[0]),
        health=tuple(HealthCheck.from_row(r) for r in health),
        functions=tuple(FunctionTiming(str(r[0]), int(r[1] or 0), float(r[2] or 0) / 1000, float(r[3] or 0) / 1000)
                        for r in functions),
        tables=tuple(TableStorage(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5] or 0),
                                  int(r[6] or 0), _float(r[7]), int(r[8] or 0), int(r[9] or 0), int(r[10] or 0),
                                  r[11]) for r in tables),
    )


_SNAPSHOT = (queries.SESSION_STATS, CLEANUP_SUMMARY, queries.CLEANUP_JOB_STATUS, queries.HEALTH_CHECK,
             FUNCTION_STATS, STORAGE_STATS)


def read_metrics(manager: ConnectionSource) -> Metrics:
    """The database's figures, in one read-only transaction on one pooled connection.

    Needs only session_manager_monitor's rights. Errors are the client's (SessionManagerError subclasses).
    """
    with manager.connection() as conn, conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        row = conn.execute(DATABASE_NOW).fetchone()
        assert row is not None
        results = [conn.execute(sql).fetchall() for sql in _SNAPSHOT]
    return _metrics(str(row[0]), row[1], results)


async def read_metrics_async(manager: AsyncConnectionSource) -> Metrics:
    """read_metrics for an AsyncSessionManager."""
    async with manager.connection() as conn, conn.transaction():
        await conn.execute("SET TRANSACTION READ ONLY")
        row = await (await conn.execute(DATABASE_NOW)).fetchone()
        assert row is not None
        results = [await (await conn.execute(sql)).fetchall() for sql in _SNAPSHOT]
    return _metrics(str(row[0]), row[1], results)


def read_function_timings(manager: ConnectionSource) -> tuple[datetime, tuple[FunctionTiming, ...]]:
    """The database's clock and function_stats alone: what the status page samples for its latency chart."""
    with manager.connection() as conn:
        row = conn.execute("SELECT now()").fetchone()
        rows = conn.execute(FUNCTION_STATS).fetchall()
    assert row is not None
    return row[0], tuple(FunctionTiming(str(r[0]), int(r[1] or 0), float(r[2] or 0) / 1000, float(r[3] or 0) / 1000)
                         for r in rows)


def read_cleanup_runs(manager: ConnectionSource, since: timedelta = timedelta(hours=1)) -> list[CleanupRun]:
    """The committed cleanup runs that finished within `since`, oldest first."""
    with manager.connection() as conn:
        rows = conn.execute(CLEANUP_RUNS_SINCE, (since,)).fetchall()
    return [CleanupRun(int(r[0]), r[1], r[2], float(r[3]) / 1000, str(r[4]), bool(r[5]), int(r[6]), int(r[7]))
            for r in rows]


# --- Prometheus families of the database's figures ---------------------------------------------------------

def _ts(value: datetime | None) -> float:
    return math.nan if value is None else value.timestamp()


def _num(value: float | None) -> float:
    return math.nan if value is None else float(value)


def database_families(m: Metrics) -> list[Metric]:
    """The ``session_manager_*`` families of a snapshot (names, types and labels as in queries.yaml)."""
    s = m.sessions
    out: list[Metric] = []

    def gauge(name: str, doc: str, value: float) -> None:
        out.append(GaugeMetricFamily(name, doc, value=value))

    def counter(name: str, doc: str, value: float) -> None:
        out.append(CounterMetricFamily(name, doc, value=value))

    sessions = GaugeMetricFamily("session_manager_sessions", "Sessions by state: live (active, used within "
                                 "idle_timeout), idle (active but idle past it, not yet cleaned up), inactive "
                                 "(estimate from statistics).", labels=["state"])
    sessions.add_metric(["live"], s.live_sessions)
    sessions.add_metric(["idle"], s.idle_backlog)
    sessions.add_metric(["inactive"], s.inactive_sessions_estimate)
    out.append(sessions)
    gauge("session_manager_idle_backlog_oldest_seconds",
          "How long the oldest idle, not yet cleaned session has been past idle_timeout.",
          s.idle_backlog_oldest_seconds)
    gauge("session_manager_idle_timeout_seconds", "The setting idle_timeout.", s.idle_timeout_seconds)
    counter("session_manager_sessions_created", "Sessions inserted since the statistics reset.",
            s.sessions_created_total)
    gauge("session_manager_sessions_created_last_hour", "Sessions created in the last hour.", s.created_last_hour)
    gauge("session_manager_messages_stored", "Messages stored (estimate from statistics).", s.messages_estimate)
    counter("session_manager_messages_appended", "Messages inserted since the statistics reset.",
            s.messages_appended_total)

    c = m.cleanup
    counter("session_manager_cleanup_runs", "Cleanup runs recorded (exact: cleanup_totals).", c.runs_total)
    counter("session_manager_cleanup_deactivated_sessions", "Sessions deactivated by the recorded cleanup runs "
            "(exact: cleanup_totals).", c.deactivated_total)
    counter("session_manager_cleanup_purged_sessions", "Sessions deleted by retention in the recorded cleanup runs "
            "(exact: cleanup_totals).", c.purged_total)
    gauge("session_manager_cleanup_runs_last_hour", "Committed cleanup runs in the last hour.",
          s.cleanup_runs_last_hour)
    gauge("session_manager_cleanup_deactivated_sessions_last_hour", "Sessions deactivated by cleanup in the last hour.",
          s.deactivated_last_hour)
    gauge("session_manager_cleanup_purged_sessions_last_hour", "Sessions deleted by retention in the last hour.",
          s.purged_last_hour)
    gauge("session_manager_cleanup_last_success_timestamp_seconds",
          "When the latest committed cleanup of all users finished (Unix time; NaN: never).", _ts(c.last_success_at))
    gauge("session_manager_cleanup_last_duration_seconds", "How long the latest cleanup of all users took.",
          _num(c.last_duration_seconds))
    gauge("session_manager_cleanup_last_deactivated_sessions", "Sessions the latest cleanup of all users deactivated.",
          _num(c.last_deactivated))
    j = m.cleanup_job
    info = GaugeMetricFamily("session_manager_cleanup_job_info", "The pg_cron cleanup job: state scheduled, inactive, "
                             "missing, or unknown (pg_cron in another database).", labels=["state", "job_name",
                                                                                          "schedule"])
    info.add_metric([j.job_state, j.job_name or "", j.job_schedule or ""], 1)
    out.append(info)
    gauge("session_manager_cleanup_job_consecutive_failures",
          "The pg_cron job's latest runs that failed in a row (NaN: pg_cron not in this database).",
          _num(j.consecutive_failures))
    gauge("session_manager_cleanup_job_last_run_timestamp_seconds", "When the pg_cron job's latest run started.",
          _ts(j.last_run_started_at))
    gauge("session_manager_cleanup_job_last_failure_timestamp_seconds", "When the pg_cron job last failed.",
          _ts(j.last_failure_at))

    calls = CounterMetricFamily("session_manager_function_calls", "Calls of the package's functions "
                                "(pg_stat_user_functions).", labels=["function"])
    total = CounterMetricFamily("session_manager_function_time_seconds", "Time in the package's functions, "
                                "nested calls included.", labels=["function"])
    own = CounterMetricFamily("session_manager_function_self_time_seconds", "Time in the package's functions, "
                              "nested calls excluded.", labels=["function"])
    for f in m.functions:
        calls.add_metric([f.function], f.calls)
        total.add_metric([f.function], f.total_seconds)
        own.add_metric([f.function], f.self_seconds)
    out += [calls, total, own]

    labels = ["schema", "table"]
    size = GaugeMetricFamily("session_manager_table_bytes", "Bytes of the session tables: heap, indexes, TOAST.",
                             labels=[*labels, "kind"])
    live = GaugeMetricFamily("session_manager_table_live_tuples", "Live tuples (statistics).", labels=labels)
    dead = GaugeMetricFamily("session_manager_table_dead_tuples", "Dead tuples (statistics).", labels=labels)
    hot = GaugeMetricFamily("session_manager_table_hot_update_ratio", "Heap-only updates / updates since the "
                            "statistics reset (NaN: no update).", labels=labels)
    updates = CounterMetricFamily("session_manager_table_updates", "Rows updated.", labels=labels)
    hot_updates = CounterMetricFamily("session_manager_table_hot_updates", "Rows updated heap-only.", labels=labels)
    vacuums = CounterMetricFamily("session_manager_table_vacuums", "Vacuums and autovacuums.", labels=labels)
    last_vacuum = GaugeMetricFamily("session_manager_table_last_vacuum_timestamp_seconds",
                                    "The latest vacuum or autovacuum (NaN: none since the reset).", labels=labels)
    for t in m.tables:
        key = [t.schema, t.table]
        size.add_metric([*key, "heap"], t.heap_bytes)
        size.add_metric([*key, "index"], t.index_bytes)
        size.add_metric([*key, "toast"], t.toast_bytes)
        live.add_metric(key, t.live_tuples)
        dead.add_metric(key, t.dead_tuples)
        hot.add_metric(key, _num(t.hot_update_ratio))
        updates.add_metric(key, t.updates_total)
        hot_updates.add_metric(key, t.hot_updates_total)
        vacuums.add_metric(key, t.vacuums_total)
        last_vacuum.add_metric(key, _ts(t.last_vacuum_at))
    out += [size, live, dead, hot, updates, hot_updates, vacuums, last_vacuum]

    status = GaugeMetricFamily("session_manager_health_status", "health_check(): 0 ok, 1 warning, 2 critical.",
                               labels=["check"])
    value = GaugeMetricFamily("session_manager_health_value", "health_check()'s value (NaN: none).", labels=["check"])
    threshold = GaugeMetricFamily("session_manager_health_threshold", "health_check()'s threshold reached (the "
                                  "warning one while ok; NaN: none).", labels=["check"])
    for h in m.health:
        status.add_metric([h.check_name], HEALTH_LEVELS.get(h.status, 2))
        value.add_metric([h.check_name], _num(h.value))
        threshold.add_metric([h.check_name], _num(h.threshold))
    out += [status, value, threshold]
    return out


class DatabaseCollector(Collector):
    """``session_manager_*`` at each scrape, read through `manager` (a monitor-role member suffices).

    ``session_manager_up`` is 1 when the read succeeded; when it failed, only it (0) and the error count are
    given, and the scrape itself still succeeds, as postgres_exporter's pg_up does.
    """

    def __init__(self, manager: ConnectionSource) -> None:
        self._manager = manager
        self._lock = threading.Lock()
        self.errors = 0
        self.last: Metrics | None = None
        self.last_error: str | None = None

    def read(self) -> Metrics | None:
        """One snapshot, or None (the error kept in last_error)."""
        try:
            snapshot = read_metrics(self._manager)
        except SessionManagerError as exc:
            with self._lock:
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
            return None
        with self._lock:
            self.last, self.last_error = snapshot, None
        return snapshot

    def collect(self) -> Iterator[Metric]:
        snapshot = self.read()
        yield GaugeMetricFamily("session_manager_up", "1 when the database answered this scrape, else 0.",
                                value=0 if snapshot is None else 1)
        yield CounterMetricFamily("session_manager_scrape_errors", "Scrapes whose database read failed.",
                                  value=self.errors)
        if snapshot is not None:
            yield from database_families(snapshot)


class SnapshotCollector(Collector):
    """A fixed snapshot's families (for printing one exposition)."""

    def __init__(self, snapshot: Metrics) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("session_manager_up", "1 when the database answered this scrape, else 0.", value=1)
        yield from database_families(self._snapshot)


def exposition(snapshot: Metrics) -> bytes:
    """The Prometheus text exposition of one snapshot."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return generate_latest(registry)


# --- The client's own calls and pool ----------------------------------------------------------------------

# The client's call-duration buckets are kept by pool.CallStats for every call since the manager was created.
CLIENT_BUCKETS = CALL_BUCKETS


# psycopg_pool's gauges (the others it reports are counters since the pool opened).
_POOL_GAUGES = {"pool_min", "pool_max", "pool_size", "pool_available", "requests_waiting"}


class SessionManagerCollector(Collector):
    """Per-method calls, errors, retries, seconds and a latency histogram; the pool's sizes and counters.

    Label ``pool``: the manager's name (PoolSettings.name). psycopg_pool's own statistics keep its names
    (``session_manager_client_pool_size``, ``..._requests_num_total``, ...); the conventional ones are
    ``session_manager_client_pool_connections{state="busy|idle"}``, ``..._pool_max_connections`` and
    ``..._pool_requests_waiting``.
    """

    def __init__(self, manager: Any, prefix: str = "session_manager_client") -> None:
        self._manager = manager
        self._prefix = prefix

    def collect(self) -> Iterator[Metric]:
        name = self._manager.settings.name
        p = self._prefix
        calls = CounterMetricFamily(f"{p}_calls", "Calls per method.", labels=["pool", "method"])
        errors = CounterMetricFamily(f"{p}_call_errors", "Calls that raised, per method.", labels=["pool", "method"])
        retries = CounterMetricFamily(f"{p}_call_retries", "Retried attempts, per method.", labels=["pool", "method"])
        seconds = CounterMetricFamily(f"{p}_call_seconds", "Seconds spent in calls (retries included), per method.",
                                      labels=["pool", "method"])
        slowest = GaugeMetricFamily(f"{p}_call_max_seconds", "Slowest call per method.", labels=["pool", "method"])
        duration = HistogramMetricFamily(f"{p}_call_duration_seconds", "Duration of each call (retries and the "
                                         "wait for a connection included), per method.", labels=["pool", "method"])
        for method, t in sorted(self._manager.call_stats().items()):
            calls.add_metric([name, method], t.count)
            errors.add_metric([name, method], t.errors)
            retries.add_metric([name, method], t.retries)
            seconds.add_metric([name, method], t.total_seconds)
            slowest.add_metric([name, method], t.max_seconds)
            if t.bucket_counts:
                duration.add_metric([name, method], _cumulative(CALL_BUCKETS, t.bucket_counts),
                                    sum_value=t.total_seconds)
        yield from (calls, errors, retries, seconds, slowest, duration)
        pool = self._manager.pool_stats()
        for key, value in sorted(pool.items()):
            if key in _POOL_GAUGES:
                gauge = GaugeMetricFamily(f"{p}_{key}", f"psycopg_pool {key}.", labels=["pool"])
                gauge.add_metric([name], value)
                yield gauge
            else:
                counter = CounterMetricFamily(f"{p}_{key}", f"psycopg_pool {key} since the pool opened.",
                                              labels=["pool"])
                counter.add_metric([name], value)
                yield counter
        if pool:
            size, idle = pool.get("pool_size", 0), pool.get("pool_available", 0)
            conns = GaugeMetricFamily(f"{p}_pool_connections", "Open connections of the pool: busy (lent to a call) "
                                      "or idle.", labels=["pool", "state"])
            conns.add_metric([name, "busy"], max(size - idle, 0))
            conns.add_metric([name, "idle"], idle)
            limit = GaugeMetricFamily(f"{p}_pool_max_connections", "The pool's max_size.", labels=["pool"])
            limit.add_metric([name], pool.get("pool_max", 0))
            waiting = GaugeMetricFamily(f"{p}_pool_requests_waiting", "Calls waiting for a connection.",
                                        labels=["pool"])
            waiting.add_metric([name], pool.get("requests_waiting", 0))
            yield from (conns, limit, waiting)


def _cumulative(bounds: Sequence[float], counts: Iterable[int]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    running = 0
    for bound, n in zip([*(f"{b:g}" for b in bounds), "+Inf"], counts, strict=True):
        running += n
        out.append((bound, running))
    return out


def register(manager: Any, registry: CollectorRegistry = REGISTRY) -> SessionManagerCollector:
    """Expose `manager`'s call and pool statistics (``session_manager_client_*``) in `registry`; returns the
    collector (for registry.unregister). The histogram holds every call since the manager was created."""
    collector = SessionManagerCollector(manager)
    registry.register(collector)
    return collector


def register_database(manager: ConnectionSource, registry: CollectorRegistry = REGISTRY) -> DatabaseCollector:
    """Expose the database's figures (``session_manager_*``), read through `manager` at each scrape."""
    collector = DatabaseCollector(manager)
    registry.register(collector)
    return collector

