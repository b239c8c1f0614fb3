"""Many threads and many asyncio tasks on small pools, creating, appending and touching at once; the
invariants are checked afterwards in the database itself."""
from __future__ import annotations

import asyncio
import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg

from session_manager import AsyncSessionManager, Message, SessionInfo, SessionManager

pytest_plugins = ["client_fixtures"]

THREADS, THREAD_ROUNDS = 16, 20
TASKS, TASK_ROUNDS = 48, 8
POOL = 4  # connections for 16 threads, and 4 more for 48 tasks


class Record:
    """What the workers saw: the session each (user, chat) got, and every message stored."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.messages: list[Message] = []
        self.touched_false = 0

    def add(self, key: tuple[str, str], s: SessionInfo, m: Message, touched: bool) -> None:
        with self.lock:
            self.sessions[key].add(s.session_id)
            self.messages.append(m)
            self.touched_false += not touched


def test_threads_and_tasks_at_once_keep_one_session_per_chat_and_exact_counts(
        db: str, new_user: Callable[[], str], conn: psycopg.Connection) -> None:
    users = [new_user() for _ in range(4)]
    chats = ["chat-a", "chat-b", "chat-c"]
    record = Record()

    def thread_work(seed: int, m: SessionManager) -> None:
        rng = random.Random(seed)
        for i in range(THREAD_ROUNDS):
            key = (rng.choice(users), rng.choice(chats))
            s = m.get_or_create_session(key[0], "geral", chat_id=key[1])
            msg = m.append_message(s.session_id, "user", f"thread {seed} message {i}")
            record.add(key, s, msg, m.touch_session(s.session_id))

    async def task_work(seed: int, m: AsyncSessionManager) -> None:
        rng = random.Random(1000 + seed)
        for i in range(TASK_ROUNDS):
            key = (rng.choice(users), rng.choice(chats))
            s = await m.get_or_create_session(key[0], "max", chat_id=key[1])
            msg = await m.append_message(s.session_id, "assistant", f"task {seed} message {i}")
            record.add(key, s, msg, await m.touch_sessions([s.session_id]) == 1)

    async def all_tasks() -> dict[str, int]:
        async with AsyncSessionManager(db, min_size=POOL, max_size=POOL) as am:
            await asyncio.gather(*(task_work(n, am) for n in range(TASKS)))
            return am.pool_stats()

    with SessionManager(db, min_size=POOL, max_size=POOL) as m, ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(thread_work, n, m) for n in range(THREADS)]
        async_stats = asyncio.run(all_tasks())  # while the threads run
        for f in futures:
            f.result()
        sync_stats = m.pool_stats()
        infos = {sid: m.get_session_info(sid) for ids in record.sessions.values() for sid in ids}

    # The pools were small: callers queued for connections.
    assert sync_stats["requests_queued"] > 0 and async_stats["requests_queued"] > 0
    assert sync_stats["pool_size"] == POOL
    assert record.touched_false == 0  # no session stopped being live under load
    assert len(record.messages) == THREADS * THREAD_ROUNDS + TASKS * TASK_ROUNDS
    assert len({m.message_id for m in record.messages}) == len(record.messages)

    # One session per (user, chat), whoever asked, and exactly one active in the table.
    assert all(len(ids) == 1 for ids in record.sessions.values())
    rows = conn.execute("""SELECT "userId", "chatId", count(*) FILTER (WHERE "isActive"), count(*)
                           FROM public."conversationSessions" WHERE "userId" = ANY(%s)
                           GROUP BY 1, 2""", (users,)).fetchall()
    assert all(active == 1 and total == 1 for _, _, active, total in rows)
    assert {(u, c) for u, c, _, _ in rows} == set(record.sessions)

    # Every session's counter equals the messages appended to it, and the messages table agrees.
    appended: dict[str, int] = defaultdict(int)
    for msg in record.messages:
        appended[msg.session_id] += 1
    stored = dict(conn.execute("""SELECT session_id, count(*)::int FROM session_manager.messages
                                  WHERE session_id = ANY(%s) GROUP BY 1""", (list(appended),)).fetchall())
    assert stored == dict(appended)
    assert {sid: i.message_count for sid, i in infos.items() if i is not None} == dict(appended)


def test_simultaneous_get_or_create_for_one_new_chat_returns_one_session(db: str,
                                                                         new_user: Callable[[], str]) -> None:
    user = new_user()
    start = threading.Barrier(12)

    def create(m: SessionManager) -> str:
        start.wait()
        return m.get_or_create_session(user, "geral", chat_id="same-chat").session_id

    with SessionManager(db, min_size=12, max_size=12) as m, ThreadPoolExecutor(12) as pool:
        ids = set(pool.map(lambda _: create(m), range(12)))
    assert len(ids) == 1


def test_simultaneous_tasks_creating_without_chat_get_distinct_sessions(db: str,
                                                                        new_user: Callable[[], str]) -> None:
    user = new_user()

    async def main() -> list[SessionInfo]:
        async with AsyncSessionManager(db, min_size=2, max_size=2) as m:
            return await asyncio.gather(*(m.get_or_create_session(user, "geral") for _ in range(30)))

    created = asyncio.run(main())
    assert len({s.session_id for s in created}) == 30


def backends(conn: psycopg.Connection, app: str) -> int:
    row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app,)).fetchone()
    return int(row[0]) if row else 0


def test_many_threads_opening_a_manager_at_once_share_one_pool(db: str, conn: psycopg.Connection) -> None:
    app = "sm_open_threads_" + uuid.uuid4().hex[:6]
    m = SessionManager(db, min_size=1, max_size=2, name=app)
    start = threading.Barrier(16)

    def first_call(_: int) -> str:
        start.wait()
        return m.version()

    with ThreadPoolExecutor(16) as pool:
        assert len(set(pool.map(first_call, range(16)))) == 1
    assert backends(conn, app) <= 2
    m.close()


def test_many_tasks_opening_a_manager_at_once_share_one_pool(db: str, conn: psycopg.Connection) -> None:
    app = "sm_open_tasks_" + uuid.uuid4().hex[:6]

    async def main() -> int:
        m = AsyncSessionManager(db, min_size=1, max_size=2, name=app)
        await asyncio.gather(*(m.version() for _ in range(30)))
        count = backends(conn, app)
        await m.close()
        return count

    assert asyncio.run(main()) <= 2
