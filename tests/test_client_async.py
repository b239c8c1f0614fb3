"""AsyncSessionManager: the same methods as SessionManager, awaited (each test runs its own event loop)."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import psycopg
import pytest
from psycopg.rows import dict_row

from session_manager import (
    AsyncSessionManager,
    ClosedError,
    ConnectionFailedError,
    ConnectionLostError,
    ContentTooLongError,
    DuplicateMessageError,
    InvalidArgumentError,
    NotFoundError,
    NullArgumentError,
    PoolTimeoutError,
    SessionManager,
    SessionManagerError,
    SessionNotLiveError,
)

pytest_plugins = ["client_fixtures"]

T = TypeVar("T")


def run(db: str, body: Callable[[AsyncSessionManager], Awaitable[T]], **options: object) -> T:
    """Runs `body` with an open AsyncSessionManager on `db`, in a fresh event loop."""

    async def main() -> T:
        async with AsyncSessionManager(db, **{"min_size": 1, "max_size": 2, **options}) as m:  # type: ignore[arg-type]
            return await body(m)

    return asyncio.run(main())


def test_async_lifecycle_of_a_chat_session(db: str, new_user: Callable[[], str], package_version: str,
                                           make_idle: Callable[[str], None]) -> None:
    user = new_user()

    async def body(m: AsyncSessionManager) -> None:
        assert await m.version() == package_version
        s = await m.get_or_create_session(user_id=user, agent="geral", chat_id="async-chat", title="t")
        assert s.user_id == user and s.is_active and s.last_activity.tzinfo is not None
        assert (await m.get_or_create_session(user, "max", chat_id="async-chat")).session_id == s.session_id
        mid = uuid.uuid4()
        first = await m.append_message(s.session_id, role="user", content="oi", message_id=mid)
        assert first.message_id == mid
        assert await m.append_message(s.session_id, "user", "oi", message_id=mid) == first
        await m.append_message(s.session_id, "assistant", "olá")
        assert [x.content for x in await m.get_context(s.session_id)] == ["oi", "olá"]
        assert [x.content for x in await m.get_context(s.session_id, max_messages=1)] == ["olá"]
        assert await m.get_context("unknown") == []
        info = await m.get_session_info(s.session_id)
        assert info is not None and info.message_count == 2
        assert await m.get_session_info("unknown") is None
        assert await m.touch_session(s.session_id) is True
        assert await m.touch_sessions([s.session_id, "unknown"]) == 1
        assert await m.touch_sessions([]) == 0
        assert [x.session_id for x in await m.list_user_sessions(user)] == [s.session_id]
        other = await m.get_or_create_session(user, "financeiro")
        assert other.session_id != s.session_id and other.chat_id is None
        assert await m.end_session(other.session_id) is True
        assert await m.end_session(other.session_id) is False
        assert len(await m.list_user_sessions(user, include_inactive=True)) == 2
        make_idle(s.session_id)
        assert await m.touch_session(s.session_id) is False
        assert await m.cleanup_old_sessions() >= 1
        assert await m.cleanup_old_sessions(timedelta(hours=1)) == 0
        fresh = await m.get_or_create_session(user, "geral", chat_id="async-chat")
        assert fresh.session_id != s.session_id
        assert (await m.session_stats()).live_sessions >= 1
        assert [c.check_name for c in await m.health_check()]
        assert (await m.cleanup_job_status()).job_state == "unknown"
        assert (await m.get_settings())["idle_timeout"] == "00:30:00"
        assert m.call_stats()["append_message"].count == 3 and m.pool_stats()["pool_max"] == 2

    run(db, body)


async def error_of(call: Awaitable[object]) -> SessionManagerError:
    with pytest.raises(SessionManagerError) as info:
        await call
    return info.value


def test_async_errors_have_the_same_classes_and_sqlstates(db: str, new_user: Callable[[], str]) -> None:
    user = new_user()

    async def body(m: AsyncSessionManager) -> None:
        s = await m.get_or_create_session(user, "geral", chat_id="errors")
        cases: list[tuple[Awaitable[object], type[SessionManagerError], str]] = [
            (m.touch_session(None), NullArgumentError, "22004"),  # type: ignore[arg-type]
            (m.touch_session(""), InvalidArgumentError, "22023"),
            (m.append_message(s.session_id, "user", "x" * 70000), ContentTooLongError, "22001"),
            (m.append_message("unknown", "user", "oi"), NotFoundError, "P0002"),
            (m.append_message(s.session_id, "user", "a\x00b"), InvalidArgumentError, "22021"),
        ]
        for call, cls, sqlstate in cases:
            error = await error_of(call)
            assert (type(error), error.sqlstate) == (cls, sqlstate)
        mid = uuid.uuid4()
        await m.append_message(s.session_id, "user", "one", message_id=mid)
        error = await error_of(m.append_message(s.session_id, "user", "two", message_id=mid))
        assert (type(error), error.sqlstate) == (DuplicateMessageError, "23505")
        await m.end_session(s.session_id)
        error = await error_of(m.append_message(s.session_id, "user", "late"))
        assert (type(error), error.sqlstate) == (SessionNotLiveError, "55000")

    run(db, body)


def test_async_call_against_a_closed_port_fails_with_connection_failed(closed_port: int) -> None:
    async def main() -> tuple[float, SessionManagerError]:
        m = AsyncSessionManager(f"postgresql://postgres@127.0.0.1:{closed_port}/chat", timeout=3.0)
        started = time.perf_counter()
        error = await error_of(m.touch_session("x"))
        return time.perf_counter() - started, error

    seconds, error = asyncio.run(main())
    assert isinstance(error, ConnectionFailedError) and seconds < 3.0


def test_async_call_against_an_unresponsive_server_fails_within_the_timeout(blackhole_port: int) -> None:
    async def main() -> tuple[float, SessionManagerError]:
        m = AsyncSessionManager(f"postgresql://postgres@127.0.0.1:{blackhole_port}/chat", timeout=2.5,
                                connect_timeout=2)
        started = time.perf_counter()
        error = await error_of(m.version())
        return time.perf_counter() - started, error

    seconds, error = asyncio.run(main())
    assert isinstance(error, ConnectionFailedError) and seconds < 3.0


def test_async_exhausted_pool_raises_pool_timeout(db: str) -> None:
    async def body(m: AsyncSessionManager) -> None:
        async with m.connection():
            assert isinstance(await error_of(m.version()), PoolTimeoutError)

    run(db, body, max_size=1, timeout=0.5)


def test_async_acting_as_scopes_calls_to_one_user(db: str, new_user: Callable[[], str]) -> None:
    alice, bob = new_user(), new_user()

    async def body(m: AsyncSessionManager) -> None:
        b = await m.get_or_create_session(bob, "geral", chat_id="x")
        async with m.acting_as(alice) as as_alice:
            assert await as_alice.get_session_info(b.session_id) is None
            assert await as_alice.touch_session(b.session_id) is False
            assert isinstance(await error_of(as_alice.append_message(b.session_id, "user", "no")), NotFoundError)
        assert await m.touch_session(b.session_id) is True

    run(db, body)


def test_async_lost_connection_is_retried_for_touch_and_not_for_end(db: str, new_user: Callable[[], str],
                                                                    conn: psycopg.Connection) -> None:
    user = new_user()
    app = "sm_async_" + uuid.uuid4().hex[:6]

    async def kill_while_waiting(m: AsyncSessionManager, call: Awaitable[object], session_id: str) -> object:
        async with await psycopg.AsyncConnection.connect(db) as locker:
            await locker.execute('SELECT 1 FROM public."conversationSessions" WHERE id = %s FOR UPDATE',
                                 (session_id,))
            task = asyncio.ensure_future(call)
            while not conn.execute("""SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                      WHERE application_name = %s AND wait_event_type = 'Lock'""",
                                   (app,)).fetchone():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            await locker.commit()
            try:
                return await task
            except SessionManagerError as exc:
                return exc

    async def body(m: AsyncSessionManager) -> None:
        s = await m.get_or_create_session(user, "geral", chat_id="lost")
        assert await kill_while_waiting(m, m.touch_session(s.session_id), s.session_id) is True
        assert m.call_stats()["touch_session"].retries == 1
        assert isinstance(await kill_while_waiting(m, m.end_session(s.session_id), s.session_id), ConnectionLostError)
        assert m.call_stats()["end_session"].retries == 0

    run(db, body, name=app)


def test_async_manager_refuses_calls_after_close(db: str, package_version: str) -> None:
    async def main() -> None:
        m = AsyncSessionManager(db, min_size=1, max_size=1)
        assert await m.version() == package_version  # opened by the first call
        await m.close()
        assert isinstance(await error_of(m.version()), ClosedError)

    asyncio.run(main())


def test_async_methods_mirror_the_sync_ones() -> None:
    public = {n for n in dir(SessionManager) if not n.startswith("_")}
    assert public == {n for n in dir(AsyncSessionManager) if not n.startswith("_")}
    for name in public - {"settings", "user_id"}:
        assert getattr(AsyncSessionManager, name).__doc__ == getattr(SessionManager, name).__doc__, name


def test_async_state_left_by_connection_does_not_reach_the_clients_calls(db: str, new_user: Callable[[], str]) -> None:
    user = new_user()

    async def body(m: AsyncSessionManager) -> None:
        sid = (await m.get_or_create_session(user, "geral", chat_id="c-astate")).session_id
        async with m.connection() as c:
            await c.set_autocommit(False)
            c.row_factory = dict_row  # type: ignore[assignment]
            await c.execute("SELECT set_config('session_manager.user_id', 'nobody', false)")
        stored = await m.append_message(sid, "user", "kept")
        info = await m.get_session_info(sid)
        assert info is not None and info.session_id == sid and info.message_count == 1
        async with m.connection() as c:
            assert c.autocommit
            cur = await c.execute("SELECT count(*) FROM session_manager.messages WHERE message_id = %s",
                                  (stored.message_id,))
            assert await cur.fetchone() == (1,)

    run(db, body, min_size=1, max_size=1)


def test_async_close_while_the_first_call_opens_leaves_no_pool(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # close() does not wait for the opening; the call that was opening finds it closed and gives its pool up.
    real_connect = psycopg.AsyncConnection.connect
    entered, go = asyncio.Event(), asyncio.Event()

    async def held_connect(*args: object, **kwargs: object) -> psycopg.AsyncConnection:  # type: ignore[type-arg]
        entered.set()
        await go.wait()  # the opening is under way when close() runs
        return await real_connect(*args, **kwargs)  # type: ignore[arg-type]

    async def main() -> None:
        monkeypatch.setattr(psycopg.AsyncConnection, "connect", held_connect)
        m = AsyncSessionManager(db, min_size=1, max_size=1)
        first = asyncio.create_task(m.version())
        await entered.wait()
        await m.close()
        go.set()
        with pytest.raises(ClosedError):
            await first
        with pytest.raises(ClosedError):
            await m.version()
        assert m.pool_stats() == {}

    asyncio.run(main())


def test_async_connection_given_back_when_cancelled_during_its_restore(db: str, monkeypatch: pytest.MonkeyPatch,
                                                                        package_version: str) -> None:
    # A task cancelled while connection() puts the connection back in order still gives it back to the pool.
    import session_manager.manager as manager_module  # noqa: PLC0415
    restore = manager_module._restore_async_connection

    async def slow_restore(conn: psycopg.AsyncConnection) -> None:  # type: ignore[type-arg]
        await asyncio.sleep(0.5)  # a slow network under the DISCARD ALL
        await restore(conn)

    monkeypatch.setattr(manager_module, "_restore_async_connection", slow_restore)

    async def body(m: AsyncSessionManager) -> None:
        async def borrow() -> None:
            async with m.connection():
                pass

        task = asyncio.create_task(borrow())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.wait_for(m.version(), 5) == package_version  # the only connection came back

    run(db, body, min_size=1, max_size=1, timeout=3.0)
