"""Fixtures of the Python client's tests (tests/test_client_*.py), on top of conftest.py's `db` and `conn`.

Loaded with ``pytest_plugins = ["client_fixtures"]`` in each client test module.
"""
from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from session_manager import SessionManager

# Short enough that a test against a dead server stays quick, long enough for a loaded 2-core machine.
SHORT_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def sessions(db: str) -> Iterator[SessionManager]:
    """A SessionManager on the module's database (as the superuser, like the application's owner role)."""
    with SessionManager(db, min_size=1, max_size=4, timeout=10.0) as manager:
        yield manager


@pytest.fixture()
def new_user(conn: psycopg.Connection) -> Callable[[], str]:
    """Inserts a user into the application's table, as its ORM would; returns its id."""

    def make() -> str:
        user_id = "u-" + uuid.uuid4().hex[:12]
        conn.execute('INSERT INTO public."user" (id, email) VALUES (%s, %s)', (user_id, user_id + "@example.com"))
        return user_id

    return make


@pytest.fixture()
def make_idle(conn: psycopg.Connection) -> Callable[[str], None]:
    """Makes a session idle past the default 30-minute timeout, as if nobody had used it for two hours."""

    def idle(session_id: str) -> None:
        conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '2 hours'
                        WHERE id = %s""", (session_id,))

    return idle


@pytest.fixture()
def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def blackhole_port() -> Iterator[int]:
    """A port of 127.0.0.1 that accepts TCP connections but never answers: libpq waits for its timeout."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield int(s.getsockname()[1])
