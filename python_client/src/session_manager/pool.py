"""Connection and pool settings, the creation of psycopg_pool pools, and the statistics kept per call.

The DSN is handed to psycopg untouched (multi-host lists, ``target_session_attrs=read-write``, sslmode,
everything libpq understands); the client adds only defaults the DSN does not set itself
(``connect_timeout``, ``application_name``) as separate keyword arguments.
"""
from __future__ import annotations

import bisect
import math
import os
import select
import threading
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, ConnectionPool

__all__ = ["CALL_BUCKETS", "CallStats", "CallTiming", "PoolSettings", "RetryPolicy", "connection_kwargs",
           "make_async_pool", "make_pool", "pool_stats"]

SyncPool = ConnectionPool[psycopg.Connection[Any]]
AsyncPool = AsyncConnectionPool[psycopg.AsyncConnection[Any]]


@dataclass(frozen=True)
class PoolSettings:
    """How the session manager connects. Every field is a keyword argument of SessionManager.

    The defaults come from bench/pool_sizing.py on this project's 2-core machine; see python_client/README.md.
    """

    # Two connections open at all times: a new connection costs 3.5-7 ms here (bench/results/pool_sizing.md,
    # local TCP, trust auth; tens of ms with TLS across a network), so the first calls after a quiet spell
    # do not pay it, while an idle application holds only two backends.
    min_size: int = 2
    # 8 (4x this machine's 2 cores): in three runs of bench/pool_sizing.py (32 threads running chat turns,
    # other suites loading the machine) 8 gave 86-92 % of the best throughput, which needed 16 or 32
    # backends; 4 gave 55-70 % of 8. Turn p99 at 8 was within 10 ms of the lowest, and grew from 16 on.
    # Past that, more backends only queue for the server's CPU. Raise it with the server's cores.
    max_size: int = 8
    # Acquire timeout, seconds: a call that gets no connection in this time fails with PoolTimeoutError.
    # The contract: against an unreachable server a call fails within 15 s by default.
    timeout: float = 15.0
    # Callers allowed to queue for a connection (0: no limit). No limit by default: 2000 asyncio tasks
    # touching at once through the default pool all finished within 1.9 s on the loaded machine, none failed;
    # a limit would have turned that burst into errors, and the acquire timeout already bounds each wait.
    max_waiting: int = 0
    # A connection is replaced after an hour: bounds the memory a long-lived backend accumulates (plan and
    # catalog caches) and spreads reconnections after a failover (psycopg_pool adds +-5 % jitter).
    max_lifetime: float = 3600.0
    # Connections beyond min_size idle for 10 minutes are closed: the pool shrinks back after a burst.
    max_idle: float = 600.0
    # How long the pool keeps trying to reconnect in the background after the server went away.
    reconnect_timeout: float = 300.0
    # Seconds libpq waits for one connection attempt, unless the DSN (or PGCONNECT_TIMEOUT) says otherwise.
    # Below `timeout`, so an unreachable server is reported with libpq's own reason, not only a timeout.
    connect_timeout: float = 5.0
    # Server-side prepared statements (psycopg prepares a statement after 5 executions). Set False
    # behind PgBouncer in transaction mode (before 1.21), where a prepared statement may be on another backend.
    prepared_statements: bool = True
    # The pool's name in psycopg_pool's logs and statistics.
    name: str = "session_manager"

    def __post_init__(self) -> None:
        if self.min_size < 0 or self.max_size < max(1, self.min_size):
            raise ValueError(f"need 0 <= min_size <= max_size and max_size >= 1, got {self.min_size}, {self.max_size}")
        for name in ("timeout", "max_lifetime", "max_idle", "reconnect_timeout", "connect_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.max_waiting < 0:
            raise ValueError(f"max_waiting must be >= 0, got {self.max_waiting}")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter for the calls the contract lets retry.

    Attempt n (from 1) that fails with a lost connection, a serialization failure or a deadlock waits
    a random time in [0, min(max_delay, base_delay * 2 ** (n - 1))], at most `attempts` attempts in all.
    """

    attempts: int = 4
    base_delay: float = 0.05
    max_delay: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempt: int, random: float) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based); `random` is uniform in [0, 1)."""
        return random * min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))


def connection_kwargs(dsn: str, settings: PoolSettings) -> dict[str, Any]:
    """The keyword arguments of every connection: autocommit, prepared statements, and defaults the DSN lacks."""
    kwargs: dict[str, Any] = {
        # One statement, one round trip: the functions are atomic on their own. Scoped calls open a transaction.
        "autocommit": True,
        "prepare_threshold": 5 if settings.prepared_statements else None,
    }
    given = conninfo_to_dict(dsn)  # parses only (raises on a malformed DSN); the DSN itself is passed as is
    if "connect_timeout" not in given and "PGCONNECT_TIMEOUT" not in os.environ:
        # libpq waits this long for each host of a multi-host DSN: trying them all stays within `timeout`.
        hosts = max(1, len(str(given.get("host") or given.get("hostaddr") or os.environ.get("PGHOST", "")).split(",")))
        seconds = min(math.ceil(settings.connect_timeout), math.floor(settings.timeout / hosts))
        kwargs["connect_timeout"] = max(2, seconds)  # libpq: whole seconds, >= 2
    if "tcp_user_timeout" not in given:
        # A server that stops answering mid-call (a partition, a host gone) leaves the socket open: without
        # this the call waits for the kernel's retransmissions, some 15 minutes. With it, sent data or a
        # keepalive unacknowledged for `timeout` ends the connection, and the call fails (or is retried).
        # A long query is not cut: the server's kernel acknowledges while the backend works.
        kwargs["tcp_user_timeout"] = max(1000, int(settings.timeout * 1000))
    # Idle pooled connections to a vanished server are found within keepalives_idle + tcp_user_timeout.
    keepalives = {"keepalives": 1, "keepalives_idle": max(1, math.ceil(settings.timeout)), "keepalives_interval": 5}
    kwargs.update({k: v for k, v in keepalives.items() if k not in given})
    if "application_name" not in given and "PGAPPNAME" not in os.environ:
        kwargs["application_name"] = settings.name
    return kwargs


def _pool_arguments(dsn: str, settings: PoolSettings) -> dict[str, Any]:
    return {
        "conninfo": dsn,
        "kwargs": connection_kwargs(dsn, settings),
        "min_size": settings.min_size,
        "max_size": settings.max_size,
        "timeout": settings.timeout,
        "max_waiting": settings.max_waiting,
        "max_lifetime": settings.max_lifetime,
        "max_idle": settings.max_idle,
        "reconnect_timeout": settings.reconnect_timeout,
        "name": settings.name,
        "open": False,
    }


def _quiet(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """True when nothing arrived on an idle connection's socket since it was last used.

    An idle autocommit connection receives nothing unless the server ends it: a terminated backend, a
    restart or a crash sends its FATAL message and closes the socket (or the kernel does, as the process
    exits), which makes the socket readable. Polling it costs no round trip; psycopg_pool's own
    check_connection sends an empty query, a second round trip per call that halved the client's
    throughput (bench/results/report.md, "The client's own cost")."""
    if conn.closed or conn.broken:
        return False
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except (AttributeError, OSError, ValueError):  # no poll() on this platform, or no socket: ask the server
        return False


def check_connection(conn: psycopg.Connection[Any]) -> None:
    """The pool's check on checkout: a round trip only for a connection the server may have ended."""
    if not _quiet(conn):
        ConnectionPool.check_connection(conn)


async def check_async_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    """check_connection for the AsyncConnectionPool."""
    if not _quiet(conn):
        await AsyncConnectionPool.check_connection(conn)


def make_pool(dsn: str, settings: PoolSettings) -> SyncPool:
    """A closed ConnectionPool that checks each connection when it is handed out; open it explicitly."""
    return ConnectionPool(check=check_connection, **_pool_arguments(dsn, settings))


def make_async_pool(dsn: str, settings: PoolSettings) -> AsyncPool:
    """The asyncio twin of make_pool."""
    return AsyncConnectionPool(check=check_async_connection, **_pool_arguments(dsn, settings))


def pool_stats(pool: SyncPool | AsyncPool | None) -> dict[str, int]:
    """psycopg_pool's counters (pool_size, pool_available, requests_waiting, requests_num, ...); {} if not open."""
    return {} if pool is None else dict(pool.get_stats())


# Seconds, the upper bounds of the call-duration buckets. A call inside the server takes tens of
# microseconds (docs/monitoring.md); over local TCP a round trip is 0.1-0.5 ms; the top buckets reach the
# default acquire timeout (15 s).
CALL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


@dataclass(frozen=True)
class CallTiming:
    """What one method of the session manager has cost since the manager was created.

    bucket_counts: calls per CALL_BUCKETS bucket (a call of d seconds counts in the first bound >= d; the
    last entry, above the top bound), not cumulative; () before the first call."""

    count: int = 0
    errors: int = 0
    retries: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    bucket_counts: tuple[int, ...] = ()

    @property
    def mean_seconds(self) -> float:
        return self.total_seconds / self.count if self.count else 0.0


class _Tally:
    """One method's running figures, updated in place under CallStats' lock (a frozen CallTiming rebuilt
    with a copy of its buckets on every call cost about 3 µs of the client's own time per call)."""

    __slots__ = ("buckets", "count", "errors", "max_seconds", "retries", "total_seconds")

    def __init__(self) -> None:
        self.count = self.errors = self.retries = 0
        self.total_seconds = self.max_seconds = 0.0
        self.buckets = [0] * (len(CALL_BUCKETS) + 1)

    def timing(self) -> CallTiming:
        return CallTiming(self.count, self.errors, self.retries, self.total_seconds, self.max_seconds,
                          tuple(self.buckets))


@dataclass
class CallStats:
    """Per-method timings, safe to update from many threads and tasks at once."""

    _tallies: dict[str, _Tally] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, seconds: float, *, ok: bool, retries: int) -> None:
        bucket = bisect.bisect_left(CALL_BUCKETS, seconds)
        with self._lock:
            t = self._tallies.get(method)
            if t is None:
                t = self._tallies[method] = _Tally()
            t.count += 1
            if not ok:
                t.errors += 1
            t.retries += retries
            t.total_seconds += seconds
            t.max_seconds = max(t.max_seconds, seconds)
            t.buckets[bucket] += 1

    def snapshot(self) -> dict[str, CallTiming]:
        with self._lock:
            return {m: t.timing() for m, t in self._tallies.items()}
