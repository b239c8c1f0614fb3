"""Reliability proofs, part 1: races at scale (issue 9), on top of the shorter race tests of test_races.py.

- Touch against cleanup for a minute: several connections make single touch_session calls (at least
  100,000) on sessions a creator keeps adding, while two cleanups run in a tight loop with a one-second
  timeout. Every acknowledged touch is recorded by the client (its transaction's now() and clock), every
  deactivation by test_races' trigger (with the deactivating transaction's id and now()), every cleanup run
  by the package's own history (session_manager.cleanup_runs). Afterwards: no session was deactivated
  whose last acknowledged touch was within the timeout less touch_resolution at that moment; no touch was
  refused while its session was live; and the loop's own last cleanups left no session idle past it.
- Get-or-create: fifty callers for one chat whose session has gone stale, while two cleanups close stale
  sessions at the same moment: one new session a round, never two active for the chat.

SESSION_MANAGER_SOAK=1 runs the touch race for five minutes instead of one (some 2.5 million touches, each kept
in memory for the checks: about 1 GB).
"""
from __future__ import annotations

import bisect
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from test_races import (
    DEACTIVATION_LOG,
    Deactivation,
    assert_each_deactivated_once_by_its_caller,
    connect,
    deactivations,
    in_threads,
)

from reliability_report import record_proof

SOAK = os.environ.get("SESSION_MANAGER_SOAK") == "1"
USER = "u1"


@pytest.fixture(scope="module")
def race_db(db: str) -> Iterator[str]:
    """The module's database with the deactivation log and a cleanup history long enough for a minute's runs."""
    with connect(db) as conn:
        conn.execute(DEACTIVATION_LOG)
        conn.execute("UPDATE session_manager.settings SET cleanup_history_rows = 10000000")
    yield db


@pytest.fixture()
def dsn(race_db: str) -> Iterator[str]:
    """No sessions, no log, no cleanup history; the user u1 present; the settings put back afterwards."""
    with connect(race_db) as conn:
        conn.execute('TRUNCATE public."user", public.race_deactivations, session_manager.cleanup_runs CASCADE')
        conn.execute("INSERT INTO public.\"user\" (id, email) VALUES (%s, 'u1@example.com')", [USER])
    yield race_db
    with connect(race_db) as conn:
        conn.execute("UPDATE session_manager.settings SET idle_timeout = DEFAULT, touch_resolution = DEFAULT")


# -- touch_session against a tight cleanup loop ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Touch:
    session_id: str
    ok: bool
    tx_now: datetime  # the touch's now(): what "lastActivity" becomes
    clock: datetime  # clock_timestamp() right after the touch, before its commit
    sent: float  # client monotonic clock before the call
    acked: float  # client monotonic clock once the call returned (committed: autocommit)


class Pool:
    """The sessions in play: the creator appends, touchers pick among the latest `window`."""

    def __init__(self, window: int) -> None:
        self.ids: list[str] = []
        self.window = window
        self.lock = threading.Lock()

    def add(self, ids: list[str]) -> None:
        with self.lock:
            self.ids.extend(ids)

    def pick(self) -> str:
        with self.lock:
            return self.ids[-random.randint(1, min(self.window, len(self.ids)))]


def last_ok_before(ok_by_session: dict[str, tuple[list[float], list[datetime]]], t: Touch) -> datetime | None:
    """The newest now() of the session's touches acknowledged before `t` was sent (so `t` saw them)."""
    acked, newest = ok_by_session.get(t.session_id, ([], []))
    i = bisect.bisect_left(acked, t.sent)
    return newest[i - 1] if i else None


@pytest.mark.slow
@pytest.mark.timeout(600 if SOAK else 240)
def test_a_minute_of_touches_against_a_tight_cleanup_loop_loses_no_touch_and_leaves_no_idle_session(
        dsn: str) -> None:
    idle, resolution = timedelta(seconds=1), timedelta(milliseconds=100)
    duration = 300.0 if SOAK else 60.0
    touchers, cleaners = 6, 2
    with connect(dsn) as conn:
        # The setting and the cleanup's argument agree: a touch judges liveness by the setting.
        conn.execute("UPDATE session_manager.settings SET idle_timeout = %s, touch_resolution = %s",
                     [idle, resolution])
    pool = Pool(window=3000)
    stop_touching = threading.Event()
    stop_cleaning = threading.Event()
    conns = [connect(dsn) for _ in range(touchers + cleaners + 1)]
    created: list[Touch] = []  # a new session counts as touched at its creation

    def create(conn: psycopg.Connection[Any]) -> None:
        n = 0
        while not stop_touching.is_set():
            ids = [f"s{n + k}" for k in range(50)]
            n += 50
            sent = time.monotonic()
            rows = conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent)
                                   SELECT unnest(%s::text[]), %s, 'geral'
                                   RETURNING id, "lastActivity", clock_timestamp()""", [ids, USER]).fetchall()
            acked = time.monotonic()
            created.extend(Touch(sid, True, last, clock, sent, acked) for sid, last, clock in rows)
            pool.add(ids)
            time.sleep(0.1)  # 500 new sessions a second: each stays in the window about 6 s

    def touch(conn: psycopg.Connection[Any]) -> list[Touch]:
        done: list[Touch] = []
        while not stop_touching.is_set():
            sid = pool.pick()
            sent = time.monotonic()
            ok, tx_now, clock = conn.execute(
                "SELECT session_manager.touch_session(%s), now(), clock_timestamp()", [sid]).fetchone() or ()
            done.append(Touch(sid, ok, tx_now, clock, sent, time.monotonic()))
        return done

    def clean(conn: psycopg.Connection[Any]) -> list[tuple[int, int, datetime]]:
        runs = []
        sql = "SELECT session_manager.cleanup_old_sessions(%s), pg_current_xact_id()::text::bigint, now()"
        while not stop_cleaning.is_set():
            row = conn.execute(sql, [idle]).fetchone()
            assert row is not None
            runs.append((row[0], row[1], row[2]))
        # One last run each once every toucher has stopped: what it leaves is the loop's own result.
        row = conn.execute(sql, [idle]).fetchone()
        assert row is not None
        runs.append((row[0], row[1], row[2]))
        return runs

    creator = conns[-1]
    seeded = creator.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent)
                                SELECT 'seed' || g, %s, 'geral' FROM generate_series(1, 3000) g
                                RETURNING id, "lastActivity", clock_timestamp()""", [USER]).fetchall()
    created.extend(Touch(sid, True, last, clock, 0.0, 0.0) for sid, last, clock in seeded)
    pool.add([r[0] for r in seeded])
    started = time.monotonic()
    cleaner_results: list[Any] = [None] * cleaners
    cleaner_threads = [threading.Thread(target=lambda i=i: cleaner_results.__setitem__(i, clean(conns[i])),
                                        daemon=True) for i in range(cleaners)]
    for t in cleaner_threads:
        t.start()
    timer = threading.Timer(duration, stop_touching.set)
    timer.start()
    try:
        results = in_threads(touchers + 1, lambda i: create(creator) if i == touchers else touch(conns[cleaners + i]),
                             timeout=duration + 60)
    finally:
        timer.cancel()
        stop_touching.set()
        stop_cleaning.set()
        for t in cleaner_threads:
            t.join(60)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in cleaner_threads), "a cleanup did not finish"
    assert all(r is not None for r in cleaner_results), "a cleanup loop failed"
    for c in conns:
        c.close()

    touches: list[Touch] = [t for r in results[:touchers] for t in r]
    runs = [run for r in cleaner_results for run in r]
    final_now = min(r[-1][2] for r in cleaner_results)
    with connect(dsn) as conn:
        log: list[Deactivation] = deactivations(conn)
        history = conn.execute("SELECT count(*), coalesce(sum(deactivated), 0) FROM session_manager.cleanup_runs "
                               "WHERE source = 'direct'").fetchone()
        left_idle = conn.execute("""SELECT id, "lastActivity" FROM public."conversationSessions"
                                    WHERE "isActive" AND "lastActivity" < %s - %s""", [final_now, idle]).fetchall()
        total_sessions = conn.execute('SELECT count(*) FROM public."conversationSessions"').fetchone()

    # Each cleanup's count is exactly what its transaction deactivated; the history says the same.
    assert_each_deactivated_once_by_its_caller(log, {xid: n for n, xid, _ in runs})
    assert history == (len(runs), len(log)), f"cleanup_runs {history} vs {len(runs)} runs, {len(log)} deactivations"
    # Every session idle past the timeout when the loop's last cleanups began was deactivated by them.
    assert left_idle == [], f"{len(left_idle)} sessions idle past the timeout left active: {left_idle[:5]}"

    ok_touches = sorted((t for t in touches + created if t.ok), key=lambda t: t.acked)
    by_session: dict[str, list[Touch]] = defaultdict(list)
    for t in ok_touches:
        by_session[t.session_id].append(t)
    ok_by_session: dict[str, tuple[list[float], list[datetime]]] = {}
    for sid, ts in by_session.items():
        newest, running = [], ts[0].tx_now
        for t in ts:
            running = max(running, t.tx_now)
            newest.append(running)
        ok_by_session[sid] = ([t.acked for t in ts], newest)
    deactivated = {d.session_id: d for d in log}
    closest = timedelta.max
    for d in log:
        assert d.last_activity < d.tx_now - idle, f"{d} was deactivated within the timeout"
        last_touch = max(t.tx_now for t in by_session[d.session_id])
        margin = d.tx_now - (idle - resolution) - last_touch
        assert margin > timedelta(0), f"{d}: its last acknowledged touch at {last_touch} was within the timeout"
        closest = min(closest, margin)
        late = [t for t in by_session[d.session_id] if t.clock >= d.at]
        assert not late, f"{d}: touches acknowledged after the deactivation: {late[:3]}"
    refused_ended = refused_idle = 0
    for t in touches:
        if t.ok:
            continue
        d = deactivated.get(t.session_id)
        if d is not None and d.at < t.clock:
            refused_ended += 1
            continue
        seen = last_ok_before(ok_by_session, t)
        assert seen is None or seen < t.tx_now - (idle - resolution), \
            f"{t} was refused, yet a touch at {seen} acknowledged before it kept the session live"
        refused_idle += 1

    ok_count = sum(t.ok for t in touches)
    # The race was run: enough single touches, both answers, and cleanups that found work.
    assert len(touches) >= 100_000, f"only {len(touches)} touches in {elapsed:.0f} s"
    assert ok_count > 10_000 and refused_ended > 100 and len(log) > 1000, (ok_count, refused_ended, len(log))
    record_proof(
        "touch_vs_cleanup_loop", part=1,
        title=("Five minutes (soak)" if SOAK else "A minute") + " of single touches against two cleanups in a tight "
              "loop (timeout 1 s, touch_resolution 100 ms)",
        workers=f"{touchers} touch connections, {cleaners} cleanup connections, 1 session creator",
        operations=f"{len(touches):,} touch_session calls ({ok_count:,} true, {refused_ended:,} false after the "
                   f"session's deactivation, {refused_idle:,} false while idle past the timeout); "
                   f"{len(runs):,} cleanup_old_sessions runs",
        duration_s=round(elapsed, 1),
        touches_per_s=round(len(touches) / elapsed),
        rows_checked=f"{len(log):,} deactivations (trigger log) against {len(ok_touches):,} acknowledged touches "
                     f"and creations; {total_sessions[0] if total_sessions else 0:,} sessions; "
                     f"{history[0] if history else 0:,} cleanup_runs rows",
        closest_deactivation_ms=f"{closest.total_seconds() * 1000:.1f} past the timeout less touch_resolution "
                                "(the smallest margin between a deactivation and the session's last touch)",
        failures="0 sessions deactivated within the timeout, 0 touches lost or refused while live, "
                 "0 idle sessions left by the loop's last cleanups, 0 counted twice",
    )


# -- get_or_create_session while cleanup closes the stale session ------------------------------------


def test_fifty_callers_for_a_stale_chat_while_cleanups_close_it_get_one_new_session_a_round(dsn: str) -> None:
    rounds, callers, cleaners = 20, 50, 2
    chat = "chat-stale"
    conns = [connect(dsn) for _ in range(callers + cleaners)]
    watcher = connect(dsn)
    most_active = [0]
    stop = threading.Event()

    def watch() -> None:
        # Reads the chat's active sessions all through the race: never more than one.
        while not stop.is_set():
            row = watcher.execute("""SELECT count(*) FROM public."conversationSessions"
                                     WHERE "userId" = %s AND "chatId" = %s AND "isActive" """, [USER, chat]).fetchone()
            most_active[0] = max(most_active[0], row[0] if row else 0)

    watching = threading.Thread(target=watch, daemon=True)
    watching.start()
    sessions_seen: list[str] = []
    cleaned = closed_by_callers = calls = 0
    started = time.monotonic()
    try:
        current = conns[0].execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'geral', %s)",
                                   [USER, chat]).fetchone()
        assert current is not None
        current_id = str(current[0])
        for round_ in range(rounds):
            conns[0].execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '2 hours'
                                WHERE id = %s""", [current_id])
            barrier = threading.Barrier(callers + cleaners)

            def call(i: int, barrier: threading.Barrier = barrier) -> tuple[str, Any]:
                barrier.wait(timeout=10)
                if i >= callers:
                    row = conns[i].execute("SELECT session_manager.cleanup_old_sessions()").fetchone()
                    return "cleanup", row[0] if row else None
                row = conns[i].execute("SELECT session_id, is_active FROM session_manager.get_or_create_session("
                                       "%s, 'geral', %s)", [USER, chat]).fetchone()
                assert row is not None and row[1] is True, row
                return "session", str(row[0])

            results = in_threads(callers + cleaners, call)
            ids = {r for kind, r in results if kind == "session"}
            cleanups = sum(r for kind, r in results if kind == "cleanup")
            calls += callers + cleaners

            assert len(ids) == 1, f"round {round_}: {len(ids)} sessions for one chat: {ids}"
            new_id = ids.pop()
            assert new_id != current_id, f"round {round_}: the stale session was handed out again"
            rows = dict(conns[0].execute("""SELECT id, "isActive" FROM public."conversationSessions"
                                            WHERE "userId" = %s AND "chatId" = %s""", [USER, chat]).fetchall())
            assert [sid for sid, active in rows.items() if active] == [new_id], f"round {round_}: {rows}"
            assert len(rows) == round_ + 2, f"round {round_}: sessions created and lost: {sorted(rows)}"
            assert cleanups in (0, 1), f"round {round_}: the stale session was counted {cleanups} times"
            cleaned += cleanups
            closed_by_callers += 1 - cleanups
            sessions_seen.append(new_id)
            current_id = new_id
    finally:
        stop.set()
        watching.join(10)
        watcher.close()
        for c in conns:
            c.close()
    elapsed = time.monotonic() - started

    assert most_active[0] == 1, f"{most_active[0]} active sessions for one chat at once"
    # Both ways of closing were raced: by a cleanup and by a caller.
    assert cleaned > 0 and closed_by_callers > 0, (cleaned, closed_by_callers)
    record_proof(
        "get_or_create_vs_cleanup", part=1,
        title="Fifty callers for a stale chat while two cleanups close its session",
        workers=f"{callers} get_or_create_session connections, {cleaners} cleanup connections, 1 watcher",
        operations=f"{rounds} rounds, {calls:,} calls",
        duration_s=round(elapsed, 1),
        rows_checked=f"{rounds} rounds x {callers} answers; the chat's {len(sessions_seen) + 1} sessions after each "
                     "round; its active sessions read continuously during the race",
        closed_by=f"cleanup {cleaned} rounds, get_or_create_session {closed_by_callers} rounds",
        failures="0 rounds with two sessions, 0 moments with two active sessions for the chat, 0 stale sessions "
                 "handed out, 0 counted twice",
    )
