"""Fixtures of the Python client's tests (tests/test_client_*.py), on top of conftest.py's `db` and `conn`.

Loaded with ``pytest_plugins = ["client_fixtures"]`` in each client test module.
"""
from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

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


class TcpProxy:
    """A TCP relay from a port of 127.0.0.1 to the real server, that a test can cut and restore:
    `stop()` closes the port and every relayed connection (the server has gone away), `start()` listens
    on the same port again (the server is back)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(); close() alone would not
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)


@pytest.fixture()
def proxy(db: str) -> Iterator[tuple[TcpProxy, str]]:
    """A TcpProxy to the module's server, and the module database's DSN through it."""
    parts = urlsplit(db)
    relay = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    relay.start()
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{relay.port}"
    dsn = urlunsplit((parts.scheme, f"{netloc[0]}@{host}" if len(netloc) == 2 else host, parts.path, parts.query, ""))
    yield relay, dsn
    relay.stop()


@pytest.fixture(scope="module")
def package_version(db: str) -> str:
    """What session_manager.version() returns in the module's database, read without the client."""
    with psycopg.connect(db) as c:
        row = c.execute("SELECT session_manager.version()").fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture()
def login_role(conn: psycopg.Connection) -> Iterator[Callable[..., str]]:
    """Makes login roles, members of the given group roles (none: no grant at all); roles are cluster-wide,
    so they are dropped afterwards. Connect as one with the `as_role` fixture."""
    made: list[str] = []

    def make(*groups: str) -> str:
        name = "sm_client_role_" + uuid.uuid4().hex[:8]
        conn.execute(f"CREATE ROLE {name} LOGIN" + (" IN ROLE " + ", ".join(groups) if groups else ""))
        made.append(name)
        return name

    yield make
    for name in made:
        conn.execute(f"DROP ROLE {name}")


@pytest.fixture()
def as_role() -> Callable[[str, str], str]:
    """as_role(dsn, role): the same database's DSN, connecting as `role` (the test cluster trusts local
    connections). A fixture, so test modules need not import this plugin module."""

    def dsn_as(dsn: str, role: str) -> str:
        parts = urlsplit(dsn)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, f"{role}@{host}", parts.path, parts.query, parts.fragment))

    return dsn_as
