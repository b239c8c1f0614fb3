"""Prometheus metrics of a session manager's pool and calls (the optional extra: ``session_manager[metrics]``).

    from prometheus_client import REGISTRY, start_http_server
    from session_manager.metrics import register

    register(sessions)          # sessions: a SessionManager or AsyncSessionManager
    start_http_server(9105)

Read at scrape time from ``call_stats()`` and ``pool_stats()``: nothing is added to the calls themselves.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry

__all__ = ["SessionManagerCollector", "register"]

# psycopg_pool's gauges (the others it reports are counters since the pool opened).
_POOL_GAUGES = {"pool_min", "pool_max", "pool_size", "pool_available", "requests_waiting"}


class SessionManagerCollector(Collector):
    """Per-method calls, errors, retries and seconds; the pool's sizes and counters. Label ``pool``: its name."""

    def __init__(self, manager: Any, prefix: str = "session_manager_client") -> None:
        self._manager = manager
        self._prefix = prefix

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        name = self._manager.settings.name
        p = self._prefix
        calls = CounterMetricFamily(f"{p}_calls", "Calls per method.", labels=["pool", "method"])
        errors = CounterMetricFamily(f"{p}_call_errors", "Calls that raised, per method.", labels=["pool", "method"])
        retries = CounterMetricFamily(f"{p}_call_retries", "Retried attempts, per method.", labels=["pool", "method"])
        seconds = CounterMetricFamily(f"{p}_call_seconds", "Seconds spent in calls (retries included), per method.",
                                      labels=["pool", "method"])
        slowest = GaugeMetricFamily(f"{p}_call_max_seconds", "Slowest call per method.", labels=["pool", "method"])
        for method, t in sorted(self._manager.call_stats().items()):
            calls.add_metric([name, method], t.count)
            errors.add_metric([name, method], t.errors)
            retries.add_metric([name, method], t.retries)
            seconds.add_metric([name, method], t.total_seconds)
            slowest.add_metric([name, method], t.max_seconds)
        yield from (calls, errors, retries, seconds, slowest)
        for key, value in sorted(self._manager.pool_stats().items()):
            if key in _POOL_GAUGES:
                gauge = GaugeMetricFamily(f"{p}_{key}", f"psycopg_pool {key}.", labels=["pool"])
                gauge.add_metric([name], value)
                yield gauge
            else:
                counter = CounterMetricFamily(f"{p}_{key}", f"psycopg_pool {key} since the pool opened.",
                                              labels=["pool"])
                counter.add_metric([name], value)
                yield counter


def register(manager: Any, registry: CollectorRegistry = REGISTRY) -> SessionManagerCollector:
    """Expose `manager`'s statistics in `registry`; returns the collector (for registry.unregister)."""
    collector = SessionManagerCollector(manager)
    registry.register(collector)
    return collector
