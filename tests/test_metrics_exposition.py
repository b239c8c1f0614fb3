"""The client's Prometheus exposition (issue 8): `session-manager metrics`, read_metrics(), the listener.

The figures are read as a login that is only a member of session_manager_monitor, parsed with
prometheus_client's own parser, and checked against what the superuser reads from the tables.
"""
from __future__ import annotations

import asyncio
import dataclasses
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

prometheus_client = pytest.importorskip("prometheus_client")

from monitoring_export import create_monitor_login, dsn_as, http_get, parse_exposition, value  # noqa: E402
from session_manager import AsyncSessionManager, SessionManager  # noqa: E402
from session_manager.cli import main  # noqa: E402
from session_manager.metrics import (  # noqa: E402
    CLIENT_BUCKETS,
    Metrics,
    read_metrics,
    read_metrics_async,
    register,
)
from session_manager.status_page import StatusServer, parse_listen, render_page  # noqa: E402

pytest_plugins = ["client_fixtures"]

LEVEL = {"ok": 0, "warning": 1, "critical": 2}


def one(conn: psycopg.Connection, sql: str, *args: Any) -> Any:
    row = conn.execute(sql, args).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0] if len(row) == 1 else row


@pytest.fixture(scope="module")
def populated(db: str) -> str:
    """3 live, 4 idle past the timeout, 3 ended sessions; 7 messages; one cleanup run; statistics flushed."""
    with psycopg.connect(db, autocommit=True) as c:
        c.execute("""INSERT INTO public."user" (id, email) SELECT 'mx' || i, 'mx' || i || '@example.com'
                     FROM generate_series(1, 5) AS i""")
        ids = [one(c, "SELECT session_id FROM session_manager.get_or_create_session(%s, 'geral', %s)",
                   f"mx{i % 5 + 1}", f"chat-{i}") for i in range(10)]
        for sid in ids[:3]:
            c.execute("SELECT session_manager.end_session(%s)", (sid,))
        c.execute("SELECT session_manager.cleanup_old_sessions()")
        c.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '2 hours'
                     WHERE id = ANY(%s)""", (ids[3:7],))
        for i in range(7):
            c.execute("SELECT session_manager.append_message(%s, 'user', %s)", (ids[9], f"message {i}"))
        c.execute("SELECT pg_stat_force_next_flush()")
        c.execute("SELECT 1")
    return db


@pytest.fixture()
def monitor_dsn(populated: str, conn: psycopg.Connection) -> Iterator[str]:
    """The populated database as a login that is only a member of session_manager_monitor."""
    role = create_monitor_login(conn)
    yield dsn_as(populated, role)
    conn.execute(f"DROP ROLE {role}")


def test_the_exposition_of_a_monitor_login_matches_the_database(
        monitor_dsn: str, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dsn", monitor_dsn, "metrics"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    s = parse_exposition(out.out)

    assert value(s, "session_manager_up") == 1
    assert value(s, "session_manager_sessions", state="live") == 3
    assert value(s, "session_manager_sessions", state="idle") == 4
    assert value(s, "session_manager_sessions", state="inactive") == 3
    assert value(s, "session_manager_messages_stored") == 7
    assert value(s, "session_manager_idle_timeout_seconds") == 1800
    assert 5400 - 60 < value(s, "session_manager_idle_backlog_oldest_seconds") < 5400 + 60

    runs, deactivated, finished = one(conn, """SELECT count(*), sum(deactivated),
                                                      extract(epoch FROM max(finished_at))::float8
                                               FROM session_manager.cleanup_runs WHERE NOT scoped""")
    # The clone of the template has no runs before the fixture's one: the exact totals are its sums.
    assert value(s, "session_manager_cleanup_runs_total") == runs == 1
    assert value(s, "session_manager_cleanup_deactivated_sessions_total") == deactivated
    assert value(s, "session_manager_cleanup_purged_sessions_total") == 0
    assert math.isclose(value(s, "session_manager_cleanup_last_success_timestamp_seconds"), finished, abs_tol=1e-3)
    assert value(s, "session_manager_cleanup_runs_last_hour") == 1
    assert math.isnan(value(s, "session_manager_cleanup_job_consecutive_failures")), "pg_cron is not in this database"
    assert value(s, "session_manager_cleanup_job_info", state="unknown") == 1

    for check, status, v in conn.execute("SELECT check_name, status, value FROM session_manager.health_check()"):
        assert value(s, "session_manager_health_status", check=check) == LEVEL[status], check
        got = value(s, "session_manager_health_value", check=check)
        # Ages ("seconds ago") moved between the two reads.
        assert (v is None and math.isnan(got)) or math.isclose(got, float(v), abs_tol=5), check

    assert value(s, "session_manager_function_calls_total", function="append_message") == 7
    assert value(s, "session_manager_function_calls_total", function="get_or_create_session") == 10
    assert value(s, "session_manager_function_time_seconds_total", function="append_message") > 0

    for table, total in conn.execute("""SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
                                        WHERE c.oid IN ('public."conversationSessions"'::regclass,
                                                        'session_manager.messages'::regclass)"""):
        parts = [value(s, "session_manager_table_bytes", table=table, kind=k) for k in ("heap", "index", "toast")]
        assert sum(parts) == total, table
    assert value(s, "session_manager_table_live_tuples", table="conversationSessions") == 10


def test_every_name_follows_the_conventions(monitor_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--dsn", monitor_dsn, "metrics"])
    families = list(prometheus_client.parser.text_string_to_metric_families(capsys.readouterr().out))
    assert families
    for f in families:
        assert re.fullmatch(r"session_manager_[a-z0-9_]+", f.name), f.name
        if f.type == "counter":
            assert all(s.name.endswith("_total") for s in f.samples), f.name
        else:
            assert not f.name.endswith("_total"), f.name
        assert not re.search(r"_(ms|milliseconds|kb|mb|minutes)(_|$)", f.name), f"{f.name}: use base units"


def test_a_login_without_the_monitor_role_gets_one_error_line(
        populated: str, login_role: Callable[..., str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dsn", dsn_as(populated, login_role()), "metrics"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert len(out.err.splitlines()) == 1 and "permission denied" in out.err


def test_read_metrics_is_one_frozen_typed_snapshot(monitor_dsn: str) -> None:
    with SessionManager(monitor_dsn, min_size=1, max_size=1) as m:
        snap = read_metrics(m)
    assert isinstance(snap, Metrics)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.database = "x"  # type: ignore[misc]
    assert snap.sessions.live_sessions == 3 and snap.collected_at.tzinfo is not None
    assert {c.check_name for c in snap.health} >= {"cleanup_age", "idle_backlog", "dead_tuples", "pg_cron"}
    assert snap.worst_status in {"ok", "warning", "critical"}
    assert {t.table for t in snap.tables} >= {"conversationSessions", "messages", "cleanup_runs"}

    async def read() -> Metrics:
        async with AsyncSessionManager(monitor_dsn, min_size=1, max_size=1) as am:
            return await read_metrics_async(am)

    again = asyncio.run(read())
    assert dataclasses.replace(again.sessions, idle_backlog_oldest_seconds=0) == dataclasses.replace(
        snap.sessions, idle_backlog_oldest_seconds=0)  # an age: it moved between the reads
    assert [c.check_name for c in again.health] == [c.check_name for c in snap.health]


def test_the_client_histogram_counts_every_call_per_method(populated: str) -> None:
    registry = prometheus_client.CollectorRegistry()
    with SessionManager(populated, min_size=1, max_size=2, name="hist") as m:
        m.version()  # before registering: counted, in the histogram too (kept since the manager was created)
        register(m, registry)
        for _ in range(5):
            m.touch_session("no-such-session")
        m.version()
        s = parse_exposition(prometheus_client.generate_latest(registry).decode())
    buckets = {dict(ls)["le"]: v for (n, ls), v in s.items()
               if n == "session_manager_client_call_duration_seconds_bucket" and ("method", "touch_session") in ls}
    assert len(buckets) == len(CLIENT_BUCKETS) + 1 and buckets["+Inf"] == 5
    assert list(buckets.values()) == sorted(buckets.values()), "cumulative"
    assert value(s, "session_manager_client_call_duration_seconds_count", method="touch_session") == 5
    assert value(s, "session_manager_client_calls_total", method="version") == 2
    assert value(s, "session_manager_client_call_duration_seconds_count", method="version") == 2
    assert value(s, "session_manager_client_pool_max_connections", pool="hist") == 2
    busy = value(s, "session_manager_client_pool_connections", pool="hist", state="busy")
    idle = value(s, "session_manager_client_pool_connections", pool="hist", state="idle")
    assert busy == 0 and idle == value(s, "session_manager_client_pool_size", pool="hist")
    assert value(s, "session_manager_client_pool_requests_waiting", pool="hist") == 0


@pytest.fixture()
def listener(monitor_dsn: str) -> Iterator[str]:
    m = SessionManager(monitor_dsn, min_size=0, max_size=2, timeout=5)
    server = StatusServer(m, "127.0.0.1", 0, sample_interval=0.2)
    server.start()
    host, port = server.address
    yield f"http://{host}:{port}"
    server.shutdown()
    m.close()


def test_the_listener_serves_metrics_and_a_status_page_with_the_figures(listener: str) -> None:
    status, text = http_get(listener + "/metrics")
    assert status == 200
    s = parse_exposition(text)
    assert value(s, "session_manager_up") == 1
    assert value(s, "session_manager_sessions", state="idle") == 4
    status, page = http_get(listener + "/")
    assert status == 200
    assert re.search(r'id="sessions-live">3<', page) and re.search(r'id="sessions-idle">4<', page)
    assert 'id="check-idle_backlog"' in page and "<svg" in page and 'id="chart-cleanup-deactivated"' in page
    assert not re.search(r"<script|https?://(?!www\.w3\.org/2000/svg)", page), "nothing fetched from elsewhere"
    assert http_get(listener + "/nothing")[0] == 404


def test_a_listener_whose_database_is_down_reports_up_0_and_says_so(closed_port: int) -> None:
    m = SessionManager(f"postgresql://postgres@127.0.0.1:{closed_port}/x", min_size=0, max_size=1, timeout=3,
                       connect_timeout=2)
    server = StatusServer(m, "127.0.0.1", 0)
    server.start()
    try:
        host, port = server.address
        status, text = http_get(f"http://{host}:{port}/metrics")
        assert status == 200
        s = parse_exposition(text)
        assert value(s, "session_manager_up") == 0 and value(s, "session_manager_scrape_errors_total") == 1
        assert not any(n == "session_manager_sessions" for n, _ in s)
        status, page = http_get(f"http://{host}:{port}/")
        assert status == 200 and "did not answer" in page
    finally:
        server.shutdown()
        m.close()


def test_listen_addresses_default_to_localhost() -> None:
    assert parse_listen("9188") == ("127.0.0.1", 9188)
    assert parse_listen(":9188") == ("127.0.0.1", 9188)
    assert parse_listen("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_listen("[::1]:9188") == ("::1", 9188)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen("localhost:http")


def test_a_bad_listen_address_is_one_error_line(monitor_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dsn", monitor_dsn, "metrics", "--listen", "nowhere:port"]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_the_page_without_a_database_is_still_a_page() -> None:
    page = render_page(None, [], {}, error="connection refused")
    assert page.startswith("<!DOCTYPE html>") and "connection refused" in page
