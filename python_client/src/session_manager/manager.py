"""SessionManager and AsyncSessionManager: one method per SQL function of the package, over a pool.

Each method builds a `Call` (which SQL string, which parameters, whether it may be retried) with the
shared builders below, and hands it to `_run`, the only place that talks to psycopg. The sync and async
classes differ only in `await`: the call table, the argument checks, the retry rule, the error
translation, the statistics and the logging are written once.

The retry rule is the contract's: on a lost connection, a serialization failure (40001) or a deadlock
(40P01), with bounded exponential backoff and jitter, only the calls that are safe to repeat (the
`retryable` column of the table). end_session, cleanup_old_sessions and get_or_create_session without a
chat_id are never retried: a repeat could report a different result or create a second session.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import PoolTimeout

if TYPE_CHECKING:
    from .metrics import Metrics

from . import queries
from .errors import (
    ClosedError,
    ConnectionFailedError,
    ConnectionLostError,
    InvalidArgumentError,
    NullArgumentError,
    PoolTimeoutError,
    SessionManagerError,
    TransactionConflictError,
    nul_byte_error,
    translate,
)
from .models import CleanupJobStatus, HealthCheck, Message, NewMessage, SessionInfo, SessionStats
from .pool import (
    AsyncPool,
    CallStats,
    CallTiming,
    PoolSettings,
    RetryPolicy,
    SyncPool,
    connection_kwargs,
    make_async_pool,
    make_pool,
    pool_stats,
)

__all__ = ["AsyncSessionManager", "SessionManager"]

logger = logging.getLogger("session_manager")

T = TypeVar("T")
Rows = list[tuple[Any, ...]]


# --- The call table: what each method sends and how its rows become Python values ------------------------

@dataclass(frozen=True)
class CallSpec(Generic[T]):
    """One SQL function as the client calls it."""

    name: str
    sql: str
    result: Callable[[Rows], T]
    retryable: bool


@dataclass(frozen=True)
class Call(Generic[T]):
    """One call: the spec, its parameters, and whether this particular call may be retried."""

    spec: CallSpec[T]
    params: tuple[Any, ...]
    retryable: bool


def _bool(rows: Rows) -> bool:
    return bool(rows[0][0])


def _int(rows: Rows) -> int:
    return int(rows[0][0])


def _str(rows: Rows) -> str:
    return str(rows[0][0])


def _session(rows: Rows) -> SessionInfo:
    return SessionInfo.from_row(rows[0])


def _optional_session(rows: Rows) -> SessionInfo | None:
    return SessionInfo.from_row(rows[0]) if rows else None


def _sessions(rows: Rows) -> list[SessionInfo]:
    return [SessionInfo.from_row(r) for r in rows]


def _message(rows: Rows) -> Message:
    return Message.from_row(rows[0])


def _optional_message(rows: Rows) -> Message | None:
    return Message.from_row(rows[0]) if rows else None


def _messages(rows: Rows) -> list[Message]:
    return [Message.from_row(r) for r in rows]


def _stats(rows: Rows) -> SessionStats:
    return SessionStats.from_row(rows[0])


def _health(rows: Rows) -> list[HealthCheck]:
    return [HealthCheck.from_row(r) for r in rows]


def _job(rows: Rows) -> CleanupJobStatus:
    return CleanupJobStatus.from_row(rows[0])


def _settings(rows: Rows) -> dict[str, str | None]:
    return {str(k): None if v is None else str(v) for k, v in rows}


class SPEC:
    """The call table. `retryable` is the contract's rule; get_or_create_session's depends on chat_id."""

    touch_session = CallSpec("touch_session", queries.TOUCH_SESSION, _bool, retryable=True)
    touch_sessions = CallSpec("touch_sessions", queries.TOUCH_SESSIONS, _int, retryable=True)
    cleanup_old_sessions = CallSpec("cleanup_old_sessions", queries.CLEANUP_OLD_SESSIONS, _int, retryable=False)
    get_or_create_session = CallSpec("get_or_create_session", queries.GET_OR_CREATE_SESSION, _session,
                                     retryable=True)  # only with a chat_id
    end_session = CallSpec("end_session", queries.END_SESSION, _bool, retryable=False)
    append_message = CallSpec("append_message", queries.APPEND_MESSAGE, _message, retryable=True)
    # Every element's message_id is fixed before the first attempt: a retry stores nothing twice.
    append_messages = CallSpec("append_messages", queries.APPEND_MESSAGES, _messages, retryable=True)
    get_context = CallSpec("get_context", queries.GET_CONTEXT, _messages, retryable=True)
    # A repeat after a lost reply would remove another message, or report 0 removed: never retried.
    pop_message = CallSpec("pop_message", queries.POP_MESSAGE, _optional_message, retryable=False)
    clear_messages = CallSpec("clear_messages", queries.CLEAR_MESSAGES, _int, retryable=False)
    trim_messages = CallSpec("trim_messages", queries.TRIM_MESSAGES, _int, retryable=False)
    find_chat_session = CallSpec("find_chat_session", queries.FIND_CHAT_SESSION, _optional_session, retryable=True)
    get_session_info = CallSpec("get_session_info", queries.GET_SESSION_INFO, _optional_session, retryable=True)
    list_user_sessions = CallSpec("list_user_sessions", queries.LIST_USER_SESSIONS, _sessions, retryable=True)
    version = CallSpec("version", queries.VERSION, _str, retryable=True)
    # Monitoring: read-only, so retried like the reads.
    session_stats = CallSpec("session_stats", queries.SESSION_STATS, _stats, retryable=True)
    health_check = CallSpec("health_check", queries.HEALTH_CHECK, _health, retryable=True)
    cleanup_job_status = CallSpec("cleanup_job_status", queries.CLEANUP_JOB_STATUS, _job, retryable=True)
    settings = CallSpec("settings", queries.SETTINGS, _settings, retryable=True)


# metrics() reads several views in one read-only transaction (metrics.read_metrics), not one statement: this
# names it in call_stats() and the retry rule; its sql is never sent.
_METRICS: CallSpec[None] = CallSpec("metrics", "", lambda rows: None, retryable=True)


# --- Argument checks shared by both classes ------------------------------------------------------------

def _text(name: str, value: str | None) -> str | None:
    """The value, unless it holds a NUL byte (PostgreSQL text cannot; psycopg would refuse it later)."""
    if isinstance(value, str) and "\x00" in value:
        raise nul_byte_error(name)
    return value


def _call(spec: CallSpec[T], *params: Any, retryable: bool | None = None) -> Call[T]:
    return Call(spec, params, spec.retryable if retryable is None else retryable)


def touch_session_call(session_id: str) -> Call[bool]:
    return _call(SPEC.touch_session, _text("session_id", session_id))


def touch_sessions_call(session_ids: Sequence[str]) -> Call[int]:
    if isinstance(session_ids, (str, bytes)):
        raise TypeError("session_ids must be a sequence of ids, not a single string")
    ids = [_text("session_ids", s) for s in session_ids]
    return _call(SPEC.touch_sessions, ids)


def cleanup_old_sessions_call(idle_timeout: timedelta | None) -> Call[int]:
    if idle_timeout is not None and not isinstance(idle_timeout, timedelta):
        raise TypeError(f"idle_timeout must be a datetime.timedelta or None, not {type(idle_timeout).__name__}")
    return _call(SPEC.cleanup_old_sessions, idle_timeout)


def get_or_create_session_call(user_id: str, agent: str, chat_id: str | None, title: str | None) -> Call[SessionInfo]:
    # Without a chat_id every call creates a session: a retry after a lost reply could create a second one.
    return _call(SPEC.get_or_create_session, _text("user_id", user_id), _text("agent", agent),
                 _text("chat_id", chat_id), _text("title", title), retryable=chat_id is not None)


def end_session_call(session_id: str) -> Call[bool]:
    return _call(SPEC.end_session, _text("session_id", session_id))


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(v) for v in value)
    return False


def _json(name: str, value: Any) -> str:
    """JSON text for a jsonb argument. PostgreSQL's jsonb holds no NUL (\\u0000) and no NaN or Infinity."""
    if _holds_nul(value):
        raise nul_byte_error(name)
    try:
        return json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"{name} is not JSON: {exc}", hint="Pass only str, int, float, bool, None, "
                                   "lists and dicts with str keys (no NaN or Infinity).") from exc


def _metadata(name: str, metadata: Mapping[str, Any] | None) -> str | None:
    return None if metadata is None else _json(name, metadata)


def _message_id(name: str, message_id: uuid.UUID | None) -> uuid.UUID:
    # The id is fixed before the first attempt: a retry of a message the server stored returns the stored row.
    if message_id is None:
        return uuid.uuid4()
    if not isinstance(message_id, uuid.UUID):
        raise TypeError(f"{name} must be a uuid.UUID or None, not {type(message_id).__name__}")
    return message_id


def append_message_call(session_id: str, role: str, content: str, message_id: uuid.UUID | None,
                        agent_id: str | None, metadata: Mapping[str, Any] | None) -> Call[Message]:
    return _call(SPEC.append_message, _text("session_id", session_id), _text("role", role),
                 _text("content", content), _message_id("message_id", message_id), _text("agent_id", agent_id),
                 _metadata("metadata", metadata))


def append_messages_call(session_id: str, messages: Sequence[NewMessage]) -> Call[list[Message]]:
    if isinstance(messages, (str, bytes, Mapping)):
        raise TypeError("messages must be a sequence of message dicts, not a single string or dict")
    elements = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping):
            raise TypeError(f"messages[{i}] must be a dict with role and content, not {type(m).__name__}")
        element: dict[str, Any] = dict(m)
        given = element.get("message_id")
        if not isinstance(given, str):  # a str is checked by the server (22023 when it is not a UUID)
            given = str(_message_id(f"messages[{i}].message_id", given))
        element["message_id"] = given
        elements.append(element)
    return _call(SPEC.append_messages, _text("session_id", session_id), _json("messages", elements))


def get_context_call(session_id: str, max_messages: int | None, agent_id: str | None) -> Call[list[Message]]:
    return _call(SPEC.get_context, _text("session_id", session_id), max_messages, _text("agent_id", agent_id))


def pop_message_call(session_id: str) -> Call[Message | None]:
    return _call(SPEC.pop_message, _text("session_id", session_id))


def clear_messages_call(session_id: str) -> Call[int]:
    return _call(SPEC.clear_messages, _text("session_id", session_id))


def trim_messages_call(session_id: str, keep: int, agent_id: str | None) -> Call[int]:
    return _call(SPEC.trim_messages, _text("session_id", session_id), keep, _text("agent_id", agent_id))


def find_chat_session_call(user_id: str, chat_id: str) -> Call[SessionInfo | None]:
    return _call(SPEC.find_chat_session, _text("user_id", user_id), _text("chat_id", chat_id))


def get_session_info_call(session_id: str) -> Call[SessionInfo | None]:
    return _call(SPEC.get_session_info, _text("session_id", session_id))


def list_user_sessions_call(user_id: str, include_inactive: bool) -> Call[list[SessionInfo]]:
    return _call(SPEC.list_user_sessions, _text("user_id", user_id), include_inactive)


# --- One cursor per pooled connection ------------------------------------------------------------------

# conn.execute() makes a new cursor on every call, and with it a new adaptation context that looks up
# the parameters' dumpers and the result's loaders again. The calls below reuse one cursor per
# connection instead, kept on the connection (a connection serves one caller at a time, so does its
# cursor): with one thread and one connection a touch took 43 -> 26 us of CPU and 113 -> 84 us of wall
# time through psycopg alone (bench/client_profile.py, "psycopg_cursor"). The cursor keeps its last
# result until the next call on that connection (at most one result per pooled connection), and the
# loaders it found first: register a custom loader on the pool's connections before the first call.
_CURSOR = "_session_manager_cursor"


def _cursor(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    cur: psycopg.Cursor[Any] | None = getattr(conn, _CURSOR, None)
    if cur is None or cur.closed:
        cur = conn.cursor(row_factory=tuple_row)  # whatever row_factory connection() left on the connection
        setattr(conn, _CURSOR, cur)
    return cur


def _async_cursor(conn: psycopg.AsyncConnection[Any]) -> psycopg.AsyncCursor[Any]:
    cur: psycopg.AsyncCursor[Any] | None = getattr(conn, _CURSOR, None)
    if cur is None or cur.closed:
        cur = conn.cursor(row_factory=tuple_row)
        setattr(conn, _CURSOR, cur)
    return cur


# What connection() may leave behind on a connection, and the client's calls must not inherit: autocommit
# off (their writes would be rolled back when the pool takes the connection back), another row factory,
# transaction characteristics, and the session's state: settings (a session-wide session_manager.user_id
# would scope every later call), SET ROLE, cursors, temporary tables, LISTEN, advisory locks. _RESET undoes
# those in one round trip; a DSN's options stay. Not DISCARD ALL: its DISCARD PLANS drops every cached plan
# of the backend, the hot-path functions' too, and with it `session-manager metrics --listen` (a read
# through connection() every second) failed a scrape in tests/test_monitoring_export_tools.py's alert test,
# on CI and here. The client's own calls pay nothing.
_RESET = ("RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL; CLOSE ALL; UNLISTEN *; "
          "SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD TEMP")
def _restore_connection(conn: psycopg.Connection[Any]) -> None:
    if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return  # the pool rolls back or discards it
    conn.autocommit = True
    conn.row_factory = tuple_row
    conn.read_only = conn.isolation_level = conn.deferrable = None
    conn.execute(_RESET)


async def _restore_async_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return
    await conn.set_autocommit(True)
    conn.row_factory = tuple_row
    await conn.set_read_only(None)
    await conn.set_isolation_level(None)
    await conn.set_deferrable(None)
    await conn.execute(_RESET)


# --- What both classes share: settings, state, statistics, the retry decision -------------------------

class _State:
    """What a manager and its acting_as() views share: the pool, the statistics, the open/close lock."""

    def __init__(self) -> None:
        self.pool: Any = None
        self.closed = False
        self.lock = threading.Lock()
        self.async_lock = asyncio.Lock()  # binds to the loop of its first contended use (Python >= 3.10)
        self.stats = CallStats()


def _is_transient(error: SessionManagerError) -> bool:
    return isinstance(error, (ConnectionLostError, TransactionConflictError))


class _ManagerBase:
    def __init__(self, dsn: str, *, user_id: str | None = None, retry: RetryPolicy | None = None,
                 **pool_options: Any) -> None:
        self._settings = PoolSettings(**pool_options)
        try:
            connection_kwargs(dsn, self._settings)
        except psycopg.ProgrammingError as exc:
            raise ConnectionFailedError(f"invalid DSN: {exc}") from exc
        self._dsn = dsn
        if user_id == "":
            raise InvalidArgumentError("user_id must not be empty (the server would read it as no scope)",
                                       hint="Pass the user id, or None for no scope.")
        self._user_id = _text("user_id", user_id)
        self._retry = retry or RetryPolicy()
        self._state = _State()
        self._owner = True

    @property
    def settings(self) -> PoolSettings:
        return self._settings

    @property
    def user_id(self) -> str | None:
        """The user every call is scoped to (session_manager.user_id), or None."""
        return self._user_id

    def _view(self, user_id: str) -> Any:
        # The server reads '' (and no value) as "no scope": a view acting as nobody would see every user's.
        if user_id is None:
            raise NullArgumentError("acting_as needs a user id, got None",
                                    hint="Pass the application's user id; use the manager itself for no scope.")
        if user_id == "":
            raise InvalidArgumentError("acting_as needs a user id, got ''",
                                       hint="Pass the application's user id; use the manager itself for no scope.")
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._user_id = _text("user_id", user_id)
        view._owner = False
        return view

    def pool_stats(self) -> dict[str, int]:
        """psycopg_pool's counters (pool_size, pool_available, requests_waiting, connections_num, ...)."""
        return pool_stats(self._state.pool)

    def call_stats(self) -> dict[str, CallTiming]:
        """Per method: calls, errors, retries, total and maximum seconds since the manager was created."""
        return self._state.stats.snapshot()

    def _retry_delay(self, call: Call[Any], attempt: int, error: SessionManagerError, started: float) -> float | None:
        """Seconds to wait before another attempt, or None when the error is final."""
        if not (call.retryable and _is_transient(error) and attempt < self._retry.attempts):
            return None
        delay = self._retry.delay(attempt, random.random())
        if time.perf_counter() - started + delay > self._settings.timeout:
            return None
        logger.warning("%s: attempt %d of %d failed (%s: %s, sqlstate %s); retrying in %.3f s", call.spec.name,
                       attempt, self._retry.attempts, type(error).__name__, error.message, error.sqlstate, delay)
        return delay

    def _remaining(self, started: float) -> float:
        """The acquire timeout left to a call that started at `started`: retries never extend the call past it."""
        return max(0.01, self._settings.timeout - (time.perf_counter() - started))

    def _done(self, call: Call[Any], started: float, attempts: int, ok: bool) -> None:
        elapsed = time.perf_counter() - started
        self._state.stats.record(call.spec.name, elapsed, ok=ok, retries=attempts - 1)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s: %s in %.2f ms (%d attempt%s)", call.spec.name, "ok" if ok else "failed",
                         elapsed * 1000, attempts, "" if attempts == 1 else "s")

    def _open_failed(self, exc: BaseException) -> SessionManagerError:
        if isinstance(exc, PoolTimeout):
            return PoolTimeoutError(f"could not open {self._settings.min_size} connections within "
                                    f"{self._settings.timeout:g} s", hint="Check the server's max_connections.")
        if isinstance(exc, psycopg.Error):
            return ConnectionFailedError(" ".join(str(exc).split()) or type(exc).__name__, sqlstate=exc.sqlstate,
                                         hint="Check the DSN, that the server is up, and its pg_hba.conf.")
        return translate(exc)

    def __repr__(self) -> str:
        state = "closed" if self._state.closed else "open" if self._state.pool is not None else "not open"
        scope = "" if self._user_id is None else f", user_id={self._user_id!r}"
        return f"<{type(self).__name__} {self._settings.name!r} {state}{scope}>"


# --- The sync class --------------------------------------------------------------------------------------

class SessionManager(_ManagerBase):
    """Pooled, typed access to pg-session-manager's SQL functions from threads.

    ``SessionManager(dsn, max_size=20, timeout=5.0)``: keyword arguments are the fields of PoolSettings,
    plus ``user_id`` (scope every call to one user) and ``retry`` (a RetryPolicy). The pool opens on
    ``with``, on ``open()`` or on the first call, and is closed by ``close()``.
    """

    def open(self) -> None:
        """Connect: one direct connection first (a bad DSN or an unreachable server is reported at once,
        with libpq's reason), then the pool, waiting for its min_size connections within `timeout`."""
        self._pool()

    def _pool(self) -> SyncPool:
        state = self._state
        if state.pool is not None:
            return state.pool  # type: ignore[no-any-return]
        with state.lock:
            if state.closed:
                raise ClosedError("the session manager is closed")
            if state.pool is None:
                started = time.perf_counter()
                pool = make_pool(self._dsn, self._settings)
                try:
                    psycopg.Connection.connect(self._dsn, **connection_kwargs(self._dsn, self._settings)).close()
                    remaining = self._settings.timeout - (time.perf_counter() - started)
                    pool.open(wait=True, timeout=max(remaining, 0.1))
                except Exception as exc:
                    pool.close(timeout=0)
                    raise self._open_failed(exc) from exc
                state.pool = pool
            return state.pool  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the pool and its connections. Further calls raise ClosedError. A view's close() does nothing."""
        if not self._owner:
            return
        with self._state.lock:
            self._state.closed = True
            pool, self._state.pool = self._state.pool, None
        if pool is not None:
            pool.close()

    def __enter__(self) -> SessionManager:
        if self._owner:
            self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def acting_as(self, user_id: str) -> SessionManager:
        """A view of this manager, sharing its pool, whose calls act only on `user_id`'s sessions.

        Each call runs in a transaction that first sets ``session_manager.user_id``: another user's
        session is then treated as unknown. Closing the view does not close the shared pool.
        """
        return self._view(user_id)  # type: ignore[no-any-return]

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection (autocommit) for what the methods do not cover; errors are translated."""
        pool = self._pool()
        lost = False
        try:
            conn = pool.getconn()
            try:
                try:
                    with conn:  # commits, or rolls back on an exception, as psycopg_pool's connection() does
                        yield conn
                except BaseException:
                    lost = conn.broken  # a lost connection is ConnectionLostError, so metrics() retries it
                    raise
                finally:
                    try:
                        _restore_connection(conn)
                    except psycopg.Error:
                        conn.close()  # the pool replaces it
            finally:
                pool.putconn(conn)  # whatever happened, even an interruption during the restore
        except SessionManagerError:
            raise
        except (psycopg.Error, PoolTimeout) as exc:
            raise translate(exc, connection_broken=lost) from exc

    def _run(self, call: Call[T]) -> T:
        started = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            lost = False
            try:
                # getconn/putconn rather than pool.connection(): its `with conn` commits an autocommit
                # connection for nothing on every call (a lock and a generator, some 6 µs of the client's
                # own time); a scoped call's transaction commits itself, and putconn rolls back anything left.
                pool = self._pool()
                conn = pool.getconn(timeout=self._remaining(started))
                try:
                    cur = _cursor(conn)
                    if self._user_id is None:
                        rows = cur.execute(call.spec.sql, call.params).fetchall()
                    else:
                        with conn.transaction():
                            cur.execute(queries.SET_USER_ID, (self._user_id,))
                            rows = cur.execute(call.spec.sql, call.params).fetchall()
                finally:
                    # Judged before putconn, which closes a connection past max_lifetime: closed then
                    # is no sign of a lost one.
                    lost = conn.broken
                    pool.putconn(conn)
                result = call.spec.result(rows)
            except Exception as exc:
                error = translate(exc, connection_broken=lost)
                delay = self._retry_delay(call, attempt, error, started)
                if delay is None:
                    self._done(call, started, attempt, ok=False)
                    if error is exc:
                        raise
                    raise error from exc
                time.sleep(delay)
                continue
            self._done(call, started, attempt, ok=True)
            return result

    # One method per SQL function (the contract's names and keyword arguments).

    def touch_session(self, session_id: str) -> bool:
        """Mark a live session as used now. True if it is live; False (nothing changes) if unknown or not live."""
        return self._run(touch_session_call(session_id))

    def touch_sessions(self, session_ids: Sequence[str]) -> int:
        """touch_session for many ids at once; returns how many distinct ids were live. [] -> 0."""
        return self._run(touch_sessions_call(session_ids))

    def cleanup_old_sessions(self, idle_timeout: timedelta | None = None) -> int:
        """Deactivate the sessions idle longer than `idle_timeout` (None: the setting); returns how many.
        Never retried."""
        return self._run(cleanup_old_sessions_call(idle_timeout))

    def get_or_create_session(self, user_id: str, agent: str, chat_id: str | None = None,
                              title: str | None = None) -> SessionInfo:
        """With chat_id: the user's live session for that chat (reusing it counts as a touch), or a new one.
        Without: always a new session (and then never retried)."""
        return self._run(get_or_create_session_call(user_id, agent, chat_id, title))

    def end_session(self, session_id: str) -> bool:
        """Deactivate a session. True if it was active; False if unknown or already inactive. Never retried."""
        return self._run(end_session_call(session_id))

    def append_message(self, session_id: str, role: str, content: str, message_id: uuid.UUID | None = None,
                       agent_id: str | None = None, metadata: Mapping[str, Any] | None = None) -> Message:
        """Store a message (role: user, assistant, system or tool) and touch the session, in one transaction.
        agent_id: one of the setting agents, or None; metadata: a JSON object of the framework's own fields, or
        None; content may be empty only with metadata. The same message_id with the same session, role,
        content, agent_id and metadata returns the stored row."""
        return self._run(append_message_call(session_id, role, content, message_id, agent_id, metadata))

    def append_messages(self, session_id: str, messages: Sequence[NewMessage]) -> list[Message]:
        """Store the messages ({role, content, message_id?, agent_id?, metadata?} each) in order, in one
        transaction, all or nothing; returns the stored rows in order. Ids missing are generated first, so the
        call is retried like append_message."""
        return self._run(append_messages_call(session_id, messages))

    def get_context(self, session_id: str, max_messages: int | None = None,
                    agent_id: str | None = None) -> list[Message]:
        """The session's last `max_messages` messages (None: the setting context_messages), oldest first; with
        agent_id, only that agent's messages and those with no agent."""
        return self._run(get_context_call(session_id, max_messages, agent_id))

    def pop_message(self, session_id: str) -> Message | None:
        """Remove and return the newest message of a live session; None when it has none. Never retried."""
        return self._run(pop_message_call(session_id))

    def clear_messages(self, session_id: str) -> int:
        """Remove every message of a live session (the session stays); returns how many. Never retried."""
        return self._run(clear_messages_call(session_id))

    def trim_messages(self, session_id: str, keep: int, agent_id: str | None = None) -> int:
        """Remove all but the newest `keep` messages of a live session (with agent_id: of that agent's messages
        only); returns how many. Never retried."""
        return self._run(trim_messages_call(session_id, keep, agent_id))

    def find_chat_session(self, user_id: str, chat_id: str) -> SessionInfo | None:
        """The live session of the user's chat, or None; creates and touches nothing."""
        return self._run(find_chat_session_call(user_id, chat_id))

    def get_session_info(self, session_id: str) -> SessionInfo | None:
        """The session, or None if unknown."""
        return self._run(get_session_info_call(session_id))

    def list_user_sessions(self, user_id: str, include_inactive: bool = False) -> list[SessionInfo]:
        """The user's active sessions (with include_inactive, all of them), most recently active first."""
        return self._run(list_user_sessions_call(user_id, include_inactive))

    def version(self) -> str:
        """The version of the package deployed in the database."""
        return self._run(_call(SPEC.version))

    def metrics(self) -> Metrics:
        """The database's monitoring figures as one typed snapshot (needs the `metrics` extra).

        Read-only, so retried like the other monitoring calls."""
        from .metrics import read_metrics  # noqa: PLC0415  (prometheus_client is an optional extra)

        call, started, attempt = _call(_METRICS), time.perf_counter(), 0
        while True:
            attempt += 1
            try:
                snapshot = read_metrics(self)
            except SessionManagerError as error:
                delay = self._retry_delay(call, attempt, error, started)
                if delay is None:
                    self._done(call, started, attempt, ok=False)
                    raise
                time.sleep(delay)
                continue
            self._done(call, started, attempt, ok=True)
            return snapshot

    def session_stats(self) -> SessionStats:
        """Monitoring (session_manager.session_stats): live sessions, the idle backlog, cleanup in the last hour."""
        return self._run(_call(SPEC.session_stats))

    def health_check(self) -> list[HealthCheck]:
        """Monitoring (session_manager.health_check()): one row per check, status ok, warning or critical."""
        return self._run(_call(SPEC.health_check))

    def cleanup_job_status(self) -> CleanupJobStatus:
        """Monitoring (session_manager.cleanup_job_status()): the pg_cron cleanup job, its last run and failure."""
        return self._run(_call(SPEC.cleanup_job_status))

    def get_settings(self) -> dict[str, str | None]:
        """The package's settings (session_manager.settings), as text (None for NULL), in column order."""
        return self._run(_call(SPEC.settings))


# --- The async class: the same, with await --------------------------------------------------------------

class AsyncSessionManager(_ManagerBase):
    """SessionManager for asyncio: the same methods, awaited. Open with ``async with`` or ``await open()``
    (or let the first call open it)."""

    async def open(self) -> None:
        await self._pool()

    async def _pool(self) -> AsyncPool:
        state = self._state
        if state.pool is not None:
            return state.pool  # type: ignore[no-any-return]
        async with state.async_lock:
            if state.closed:
                raise ClosedError("the session manager is closed")
            if state.pool is None:
                started = time.perf_counter()
                pool = make_async_pool(self._dsn, self._settings)
                try:
                    conn = await psycopg.AsyncConnection.connect(self._dsn,
                                                                 **connection_kwargs(self._dsn, self._settings))
                    await conn.close()
                    remaining = self._settings.timeout - (time.perf_counter() - started)
                    await pool.open(wait=True, timeout=max(remaining, 0.1))
                except Exception as exc:
                    await pool.close(timeout=0)
                    raise self._open_failed(exc) from exc
                if state.closed:  # close() ran while this opened (it does not wait for the lock)
                    await pool.close()
                    raise ClosedError("the session manager is closed")
                state.pool = pool
            return state.pool  # type: ignore[no-any-return]

    async def close(self) -> None:
        if not self._owner:
            return
        self._state.closed = True
        pool, self._state.pool = self._state.pool, None
        if pool is not None:
            await pool.close()

    async def __aenter__(self) -> AsyncSessionManager:
        if self._owner:
            await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    def acting_as(self, user_id: str) -> AsyncSessionManager:
        return self._view(user_id)  # type: ignore[no-any-return]

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        pool = await self._pool()
        lost = False
        try:
            conn = await pool.getconn()
            try:
                try:
                    async with conn:
                        yield conn
                except BaseException:
                    lost = conn.broken
                    raise
                finally:
                    try:
                        await _restore_async_connection(conn)
                    except psycopg.Error:
                        await conn.close()
            finally:
                await pool.putconn(conn)  # also when the task is cancelled during the restore
        except SessionManagerError:
            raise
        except (psycopg.Error, PoolTimeout) as exc:
            raise translate(exc, connection_broken=lost) from exc

    async def _run(self, call: Call[T]) -> T:
        started = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            lost = False
            try:
                pool = await self._pool()  # getconn/putconn: as in SessionManager._run
                conn = await pool.getconn(timeout=self._remaining(started))
                try:
                    cur = _async_cursor(conn)
                    if self._user_id is None:
                        rows = await (await cur.execute(call.spec.sql, call.params)).fetchall()
                    else:
                        async with conn.transaction():
                            await cur.execute(queries.SET_USER_ID, (self._user_id,))
                            rows = await (await cur.execute(call.spec.sql, call.params)).fetchall()
                finally:
                    lost = conn.broken  # before putconn: as in SessionManager._run
                    await pool.putconn(conn)
                result = call.spec.result(rows)
            except Exception as exc:
                error = translate(exc, connection_broken=lost)
                delay = self._retry_delay(call, attempt, error, started)
                if delay is None:
                    self._done(call, started, attempt, ok=False)
                    if error is exc:
                        raise
                    raise error from exc
                await asyncio.sleep(delay)
                continue
            self._done(call, started, attempt, ok=True)
            return result

    async def touch_session(self, session_id: str) -> bool:
        return await self._run(touch_session_call(session_id))

    async def touch_sessions(self, session_ids: Sequence[str]) -> int:
        return await self._run(touch_sessions_call(session_ids))

    async def cleanup_old_sessions(self, idle_timeout: timedelta | None = None) -> int:
        return await self._run(cleanup_old_sessions_call(idle_timeout))

    async def get_or_create_session(self, user_id: str, agent: str, chat_id: str | None = None,
                                    title: str | None = None) -> SessionInfo:
        return await self._run(get_or_create_session_call(user_id, agent, chat_id, title))

    async def end_session(self, session_id: str) -> bool:
        return await self._run(end_session_call(session_id))

    async def append_message(self, session_id: str, role: str, content: str, message_id: uuid.UUID | None = None,
                             agent_id: str | None = None, metadata: Mapping[str, Any] | None = None) -> Message:
        return await self._run(append_message_call(session_id, role, content, message_id, agent_id, metadata))

    async def append_messages(self, session_id: str, messages: Sequence[NewMessage]) -> list[Message]:
        return await self._run(append_messages_call(session_id, messages))

    async def get_context(self, session_id: str, max_messages: int | None = None,
                          agent_id: str | None = None) -> list[Message]:
        return await self._run(get_context_call(session_id, max_messages, agent_id))

    async def pop_message(self, session_id: str) -> Message | None:
        return await self._run(pop_message_call(session_id))

    async def clear_messages(self, session_id: str) -> int:
        return await self._run(clear_messages_call(session_id))

    async def trim_messages(self, session_id: str, keep: int, agent_id: str | None = None) -> int:
        return await self._run(trim_messages_call(session_id, keep, agent_id))

    async def find_chat_session(self, user_id: str, chat_id: str) -> SessionInfo | None:
        return await self._run(find_chat_session_call(user_id, chat_id))

    async def get_session_info(self, session_id: str) -> SessionInfo | None:
        return await self._run(get_session_info_call(session_id))

    async def list_user_sessions(self, user_id: str, include_inactive: bool = False) -> list[SessionInfo]:
        return await self._run(list_user_sessions_call(user_id, include_inactive))

    async def version(self) -> str:
        return await self._run(_call(SPEC.version))

    async def metrics(self) -> Metrics:
        from .metrics import read_metrics_async  # noqa: PLC0415  (prometheus_client is an optional extra)

        call, started, attempt = _call(_METRICS), time.perf_counter(), 0
        while True:
            attempt += 1
            try:
                snapshot = await read_metrics_async(self)
            except SessionManagerError as error:
                delay = self._retry_delay(call, attempt, error, started)
                if delay is None:
                    self._done(call, started, attempt, ok=False)
                    raise
                await asyncio.sleep(delay)
                continue
            self._done(call, started, attempt, ok=True)
            return snapshot

    async def session_stats(self) -> SessionStats:
        return await self._run(_call(SPEC.session_stats))

    async def health_check(self) -> list[HealthCheck]:
        return await self._run(_call(SPEC.health_check))

    async def cleanup_job_status(self) -> CleanupJobStatus:
        return await self._run(_call(SPEC.cleanup_job_status))

    async def get_settings(self) -> dict[str, str | None]:
        return await self._run(_call(SPEC.settings))


# The async methods say what the sync ones say.
for _name, _method in vars(SessionManager).items():
    if not _name.startswith("_") and callable(_method) and _name in vars(AsyncSessionManager):
        getattr(AsyncSessionManager, _name).__doc__ = _method.__doc__
