"""PostgreSQL restarted (pg_ctl restart -m fast, then -m immediate: a crash and its recovery, then an immediate
stop with the server down 5 s) in the middle of a client load of threads and asyncio tasks.

The pools recover by themselves; the calls the contract lets retry succeed after their retries; every
acknowledged append is stored exactly once and every acknowledged touch is reflected in "lastActivity";
no call runs past its timeout. The cluster is the test's own, with durable commits (fsync and
synchronous_commit on): "acknowledged" must mean committed to disk for the crash to prove anything.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any

import psycopg
import pytest

from fault_fixtures import DURABLE, deploy_package, own_cluster, pg_ctl, server_of
from pgcluster import EmbeddedCluster
from reliability_report import record_proof
from session_manager import AsyncSessionManager, SessionManager, SessionManagerError

FAULTS = ("restart -m fast", "restart -m immediate", "stop -m immediate, 5 s down, start")
# SESSION_MANAGER_SOAK=1: the same faults 20 times over (about 6 minutes) instead of once
ROUNDS = 20 if os.environ.get("SESSION_MANAGER_SOAK") == "1" else 1
THREADS = 6
TASKS = 12
POOL = 4
TIMEOUT = 10.0  # the pools' acquire timeout: no call may run much past it
RECOVERY_BOUND = 30.0
DOWN = 5.0  # the third fault keeps the server down this long: below TIMEOUT, so retried calls still succeed
CHATS = 3


@dataclass
class Load:
    """Everything the workers saw, with wall-clock times (time.time(), the server's clock too)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    acked: dict[str, tuple[str, str]] = field(default_factory=dict)  # message_id -> (session_id, content)
    unacked: dict[str, str] = field(default_factory=dict)  # content -> session_id, outcome unknown
    touched: dict[str, float] = field(default_factory=dict)  # session_id -> start of its last acked write
    successes: list[tuple[str, float, float]] = field(default_factory=list)  # (worker, start, end)
    failures: Counter[str] = field(default_factory=Counter)  # "method: ErrorClass"
    longest: float = 0.0
    calls: int = 0

    def call_done(self, worker: str, method: str, start: float, error: BaseException | None) -> None:
        end = time.time()
        with self.lock:
            self.calls += 1
            self.longest = max(self.longest, end - start)
            if error is None:
                self.successes.append((worker, start, end))
            else:
                self.failures[f"{method}: {type(error).__name__}"] += 1

    def wrote(self, session_id: str, start: float) -> None:
        with self.lock:
            self.touched[session_id] = max(self.touched.get(session_id, 0.0), start)


Step = tuple[str, Callable[[], Any]]  # (method, the call): a conversation yields it, a driver runs it


def conversation(name: str, user: str, agent: str, m: Any, load: Load) -> Generator[Step, Any, None]:
    """What one worker does, the same for a SessionManager and an AsyncSessionManager: the driver runs
    each call it yields (awaiting it or not) and sends back the result, or None when the call failed."""
    i = 0
    while not load.stop.is_set():
        i += 1
        start = time.time()
        s = yield "get_or_create_session", partial(m.get_or_create_session, user, agent, chat_id=f"chat-{i % CHATS}")
        if s is None:
            continue
        load.wrote(s.session_id, start)
        content = f"{name} message {i}"
        start = time.time()
        # no message_id: the client fixes one before its first attempt, and its retries reuse it
        msg = yield "append_message", partial(m.append_message, s.session_id, "user", content)
        with load.lock:
            if msg is None:
                load.unacked[content] = s.session_id
                continue
            load.acked[str(msg.message_id)] = (s.session_id, content)
        load.wrote(s.session_id, start)
        start = time.time()
        live = yield "touch_sessions", partial(m.touch_sessions, [s.session_id])
        if live is not None:
            assert live == 1, f"{s.session_id} stopped being live"
            load.wrote(s.session_id, start)
        if i % 5 == 0:
            yield "get_context", partial(m.get_context, s.session_id, 5)


def sync_worker(name: str, user: str, m: SessionManager, load: Load) -> None:
    steps = conversation(name, user, "geral", m, load)
    result = None
    with contextlib.suppress(StopIteration):
        while True:
            method, call = steps.send(result)
            start, result, error = time.time(), None, None
            try:
                result = call()
            except SessionManagerError as exc:
                error = exc
            load.call_done(name, method, start, error)


async def async_worker(name: str, user: str, m: AsyncSessionManager, load: Load) -> None:
    steps = conversation(name, user, "max", m, load)
    result = None
    with contextlib.suppress(StopIteration):
        while True:
            method, call = steps.send(result)
            start, result, error = time.time(), None, None
            try:
                result = await call()
            except SessionManagerError as exc:
                error = exc
            load.call_done(name, method, start, error)
            await asyncio.sleep(0)


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedCluster]:
    with own_cluster(**DURABLE) as c:
        yield c


def recovery(load: Load, workers: list[str], fault_start: float, server_up: float) -> float:
    """Seconds from the fault until every worker had again a call that succeeded and ended after the
    server was back up: how long the application was not served."""
    firsts = {}
    with load.lock:
        for worker, _, end in load.successes:
            if end >= server_up and (worker not in firsts or end < firsts[worker]):
                firsts[worker] = end
    missing = set(workers) - set(firsts)
    assert not missing, f"workers never served again after the fault: {sorted(missing)}"
    return max(firsts.values()) - fault_start


def worst(faults: list[dict[str, Any]], mode: str, figure: str) -> float:
    return max(float(f[figure]) for f in faults if f["mode"] == mode)


@pytest.mark.slow
def test_restarts_in_the_middle_of_a_load_lose_no_acknowledged_write(cluster: EmbeddedCluster) -> None:
    server = server_of(cluster)
    dsn = deploy_package(server, "sm_restart")
    users = [f"restart-user-{n}" for n in range(THREADS + TASKS)]
    with psycopg.connect(dsn, autocommit=True) as conn:
        for u in users:
            conn.execute('INSERT INTO public."user" (id, email) VALUES (%s, %s)', (u, u + "@example.com"))

    load = Load()
    workers = [f"thread-{n}" for n in range(THREADS)] + [f"task-{n}" for n in range(TASKS)]
    async_stats: dict[str, object] = {}

    async def all_tasks() -> None:
        async with AsyncSessionManager(dsn, min_size=POOL, max_size=POOL, timeout=TIMEOUT) as am:
            await asyncio.gather(*(async_worker(f"task-{n}", users[THREADS + n], am, load) for n in range(TASKS)))
            async_stats.update({k: v.retries for k, v in am.call_stats().items()})

    faults: list[dict[str, Any]] = []
    with SessionManager(dsn, min_size=POOL, max_size=POOL, timeout=TIMEOUT) as m:
        threads = [threading.Thread(target=sync_worker, args=(f"thread-{n}", users[n], m, load))
                   for n in range(THREADS)]
        threads.append(threading.Thread(target=lambda: asyncio.run(all_tasks())))
        for t in threads:
            t.start()
        try:
            time.sleep(3)
            for mode in FAULTS * ROUNDS:
                before = load.calls
                fault_start = time.time()
                if mode.startswith("stop"):  # a longer outage: the pools wait and reconnect
                    pg_ctl(cluster, "stop", "-m", "immediate", "-w")
                    time.sleep(DOWN)
                    pg_ctl(cluster, "start", "-w", "-t", "60")
                else:
                    pg_ctl(cluster, *mode.split(), "-w", "-t", "60")
                restart_seconds = time.time() - fault_start
                server_up = time.time()
                # wait (bounded) until every worker is served again, then let the load run on a little
                deadline = time.monotonic() + RECOVERY_BOUND + TIMEOUT
                while time.monotonic() < deadline:
                    with load.lock:
                        served = {w for w, _, end in load.successes if end >= server_up}
                    if served >= set(workers):
                        break
                    time.sleep(0.05)
                time.sleep(2)
                faults.append({"mode": mode, "restart_s": restart_seconds, "calls_during": load.calls - before,
                               "recovery_s": recovery(load, workers, fault_start, server_up),
                               "after_server_up_s": recovery(load, workers, server_up, server_up)})
        finally:
            load.stop.set()
            for t in threads:
                t.join(TIMEOUT * 4)
        sync_retries = {k: v.retries for k, v in m.call_stats().items()}
        # The application's own retry of the appends whose outcome it never learnt: same content,
        # and the client's generated id is gone with the failed call, so look for the content first.
        with psycopg.connect(dsn, autocommit=True) as conn:
            for content, session_id in list(load.unacked.items()):
                row = conn.execute("SELECT message_id FROM session_manager.messages WHERE content = %s",
                                   (content,)).fetchone()
                if row is None:
                    msg = m.append_message(session_id, "user", content)
                    load.acked[str(msg.message_id)] = (session_id, content)
                else:
                    load.acked[str(row[0])] = (session_id, content)

    assert not any(t.is_alive() for t in threads), "a worker hung"
    retryable_failures = {k: v for k, v in load.failures.items() if not k.startswith(("end_session", "cleanup"))}

    with psycopg.connect(dsn, autocommit=True) as conn:
        stored = {str(mid): (sid, content) for mid, sid, content in conn.execute(
            "SELECT message_id, session_id, content FROM session_manager.messages")}
        duplicates = conn.execute("""SELECT count(*) FROM (SELECT content FROM session_manager.messages
                                     GROUP BY content HAVING count(*) > 1) d""").fetchone()
        counts = conn.execute("""SELECT count(*) FROM session_manager.session_message_counts c
                                 WHERE c.message_count <> (SELECT count(*) FROM session_manager.messages m
                                                           WHERE m.session_id = c.session_id)""").fetchone()
        last_activity: dict[str, datetime] = dict(conn.execute(
            'SELECT id, "lastActivity" FROM public."conversationSessions"').fetchall())

    lost = {mid: v for mid, v in load.acked.items() if stored.get(mid) != v}
    stale = {sid: t for sid, t in load.touched.items()
             if last_activity[sid] < datetime.fromtimestamp(t - 0.001, timezone.utc)}
    record_proof(
        "restart_under_load", part=2, title="PostgreSQL restarted (fast, then immediate) under a client load",
        load=f"{THREADS} threads + {TASKS} asyncio tasks, 2 pools of {POOL}, get_or_create/append/touch/context",
        durability="fsync, synchronous_commit and full_page_writes on (the test's own cluster)",
        faults_injected=f"{ROUNDS} x (" + "; ".join(f"pg_ctl {f['mode']} (server down {f['restart_s']:.2f} s)"
                                                    for f in faults[:len(FAULTS)]) + ")",
        recovery_s="; ".join(f"{mode}: every worker served again at most {worst(faults, mode, 'recovery_s'):.2f} s "
                             f"after the fault, {worst(faults, mode, 'after_server_up_s'):.2f} s after the server "
                             "was up" for mode in FAULTS),
        recovery_bound_s=RECOVERY_BOUND,
        calls=load.calls, retries_sync=sum(sync_retries.values()),
        retries_async=sum(v for v in async_stats.values() if isinstance(v, int)),
        longest_call_s=round(load.longest, 2), call_timeout_s=TIMEOUT,
        appends_acknowledged_checked=len(load.acked), appends_unacknowledged_then_retried=len(load.unacked),
        sessions_touched_checked=len(load.touched),
        failures=f"{sum(retryable_failures.values())} retryable calls failed {dict(retryable_failures)}; "
                 f"{len(lost)} acknowledged appends missing; {duplicates[0] if duplicates else '?'} stored twice; "
                 f"{len(stale)} touches lost",
    )
    for f in faults:
        assert f["recovery_s"] <= RECOVERY_BOUND, faults
    assert not retryable_failures, f"retryable calls failed: {dict(retryable_failures)}"
    assert not lost, f"acknowledged appends missing or altered: {list(lost.items())[:5]}"
    assert duplicates == (0,), "a message was stored twice"
    assert counts == (0,), "message_count differs from the messages stored"
    assert not stale, f"acknowledged touches lost: {list(stale.items())[:5]}"
    assert load.longest <= TIMEOUT + 5.0, f"a call took {load.longest:.1f} s (timeout {TIMEOUT} s)"
