"""The optional Prometheus metrics: the manager's call and pool statistics, read at scrape time."""
from __future__ import annotations

import asyncio

import pytest

from session_manager import AsyncSessionManager, SessionManager

prometheus_client = pytest.importorskip("prometheus_client")
from session_manager.metrics import register  # noqa: E402

pytest_plugins = ["client_fixtures"]


def test_calls_and_pool_statistics_are_exposed_per_method(db: str) -> None:
    registry = prometheus_client.CollectorRegistry()
    with SessionManager(db, min_size=1, max_size=3, name="metrics_test") as m:
        register(m, registry)
        m.version()
        m.version()
        m.touch_session("unknown")
        text = prometheus_client.generate_latest(registry).decode()
    assert 'session_manager_client_calls_total{method="version",pool="metrics_test"} 2.0' in text
    assert 'session_manager_client_calls_total{method="touch_session",pool="metrics_test"} 1.0' in text
    assert 'session_manager_client_call_errors_total{method="version",pool="metrics_test"} 0.0' in text
    assert 'session_manager_client_pool_max{pool="metrics_test"} 3.0' in text
    assert "session_manager_client_requests_num_total" in text


def test_an_async_manager_is_exposed_the_same_way(db: str) -> None:
    registry = prometheus_client.CollectorRegistry()

    async def main() -> str:
        async with AsyncSessionManager(db, min_size=1, max_size=1, name="metrics_async") as m:
            register(m, registry)
            await m.get_context("unknown")
            return prometheus_client.generate_latest(registry).decode()

    assert 'session_manager_client_calls_total{method="get_context",pool="metrics_async"} 1.0' in asyncio.run(main())
