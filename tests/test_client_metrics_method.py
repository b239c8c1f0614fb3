"""SessionManager.metrics() and AsyncSessionManager.metrics(): the database's figures as one snapshot."""
from __future__ import annotations

import asyncio

import psycopg
import pytest

from session_manager import AsyncSessionManager, SessionManager

pytest.importorskip("prometheus_client")


def live_and_idle(db: str) -> tuple[int, int]:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("""INSERT INTO public."user" (id, email) VALUES ('m-u', 'm@example.com') ON CONFLICT DO NOTHING""")
        conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity") VALUES
                        ('m-live', 'm-u', 'geral', now()), ('m-idle', 'm-u', 'geral', now() - interval '2 hours')
                        ON CONFLICT DO NOTHING""")
        row = conn.execute("""SELECT count(*) FILTER (WHERE c."lastActivity" >= now() - s.idle_timeout),
                                     count(*) FILTER (WHERE c."lastActivity" < now() - s.idle_timeout)
                              FROM public."conversationSessions" c, session_manager.settings s
                              WHERE c."isActive" """).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_metrics_reports_the_live_sessions_and_the_idle_backlog_of_the_database(db: str) -> None:
    live, idle = live_and_idle(db)
    with SessionManager(db, min_size=1, max_size=2) as sessions:
        snapshot = sessions.metrics()
    assert (snapshot.sessions.live_sessions, snapshot.sessions.idle_backlog) == (live, idle)
    assert {c.check_name for c in snapshot.health} >= {"idle_backlog", "cleanup_age"}


def test_async_metrics_gives_the_same_figures(db: str) -> None:
    live, idle = live_and_idle(db)

    async def read() -> tuple[int, int]:
        async with AsyncSessionManager(db, min_size=1, max_size=2) as sessions:
            snapshot = await sessions.metrics()
        return snapshot.sessions.live_sessions, snapshot.sessions.idle_backlog

    assert asyncio.run(read()) == (live, idle)
