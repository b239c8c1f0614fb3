"""Races that pgTAP cannot open: real concurrent connections against the session functions (issue 4).

Each test runs a few hundred calls from threads, each thread with its own connection, for a
few seconds at most. A test-owned trigger logs every deactivation (a session's "isActive"
going from true to false) with the deactivating transaction's id, its now() and the clock
at that moment; the assertions compare that log with what each caller was told.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import psycopg
import pytest

from reliability_report import record_proof

pytestmark = pytest.mark.timeout(30, func_only=True)

T = TypeVar("T")
USER = "u1"
CHAT = "chat-x"

DEACTIVATION_LOG = """
CREATE TABLE IF NOT EXISTS public.race_deactivations (
  session_id text NOT NULL,
  last_activity timestamptz NOT NULL,  -- the row's "lastActivity" when it was deactivated
  tx_now timestamptz NOT NULL,         -- now() of the deactivating transaction
  at timestamptz NOT NULL,             -- clock_timestamp() at the deactivation, before its commit
  xid xid8 NOT NULL);
CREATE OR REPLACE FUNCTION public.race_log_deactivation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.race_deactivations
  VALUES (OLD.id, OLD."lastActivity", now(), clock_timestamp(), pg_current_xact_id());
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER race_log_deactivation AFTER UPDATE OF "isActive" ON public."conversationSessions"
  FOR EACH ROW WHEN (OLD."isActive" AND NOT NEW."isActive") EXECUTE FUNCTION public.race_log_deactivation();
"""


# Stretches the moments a correct function holds its row locks and a wrong one would leave open:
# each deactivation and each stored message takes a millisecond longer, so that a check made
# before it and not protected by a lock is overtaken by a concurrent caller within seconds.
STRETCH = """
CREATE OR REPLACE FUNCTION public.race_stretch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_sleep(0.001);
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER race_stretch BEFORE UPDATE OF "isActive" ON public."conversationSessions"
  FOR EACH ROW WHEN (OLD."isActive" AND NOT NEW."isActive") EXECUTE FUNCTION public.race_stretch();
CREATE OR REPLACE TRIGGER race_stretch BEFORE INSERT ON session_manager.messages
  FOR EACH ROW EXECUTE FUNCTION public.race_stretch();
"""
UNSTRETCH = """
DROP TRIGGER race_stretch ON public."conversationSessions";
DROP TRIGGER race_stretch ON session_manager.messages;
DROP FUNCTION public.race_stretch();
"""


@dataclass(frozen=True)
class Deactivation:
    session_id: str
    last_activity: datetime
    tx_now: datetime
    at: datetime
    xid: int


def connect(dsn: str) -> psycopg.Connection[Any]:
    # A statement stuck on a lock fails the test instead of hanging it.
    return psycopg.connect(dsn, autocommit=True, options="-c statement_timeout=20s")


@pytest.fixture(scope="module")
def logged_db(db: str) -> Iterator[str]:
    """The module's database with the deactivation log installed; removed at the end."""
    with connect(db) as conn:
        conn.execute(DEACTIVATION_LOG)
    yield db
    with connect(db) as conn:
        conn.execute('DROP TRIGGER race_log_deactivation ON public."conversationSessions";'
                     "DROP FUNCTION public.race_log_deactivation(); DROP TABLE public.race_deactivations")


@pytest.fixture()
def dsn(logged_db: str) -> Iterator[str]:
    """The database emptied of sessions and log, the user u1 present, the settings as deployed."""
    with connect(logged_db) as conn:
        conn.execute('TRUNCATE public."user", public.race_deactivations CASCADE')
        conn.execute("INSERT INTO public.\"user\" (id, email) VALUES (%s, 'u1@example.com')", [USER])
    yield logged_db
    with connect(logged_db) as conn:
        conn.execute("UPDATE session_manager.settings SET idle_timeout = DEFAULT, cleanup_batch_size = DEFAULT")


@pytest.fixture()
def stretched(dsn: str) -> Iterator[str]:
    """The database with STRETCH installed for one test."""
    with connect(dsn) as conn:
        conn.execute(STRETCH)
    yield dsn
    with connect(dsn) as conn:
        conn.execute(UNSTRETCH)


def in_threads(count: int, work: Callable[[int], T], timeout: float = 25.0) -> list[T]:
    """Runs work(0..count-1) in as many threads; re-raises the first failure, fails if one hangs."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = work(i)
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"a thread still runs after {timeout} s"
    if errors:
        raise errors[0]
    return results


def run_for(seconds: float, stop: threading.Event, conns: list[psycopg.Connection[Any]],
            work: Callable[[int], T]) -> list[T]:
    """work(i) in a thread per connection, told to stop after `seconds`; closes the connections."""
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    try:
        return in_threads(len(conns), work)
    finally:
        timer.cancel()
        stop.set()
        for c in conns:
            c.close()


def until(stop: threading.Event, step: Callable[[], T], pause: float) -> list[T]:
    """Calls step until stop is set, pausing up to `pause` seconds between calls; its results."""
    done = []
    while not stop.is_set():
        done.append(step())
        time.sleep(random.uniform(0, pause))
    return done


def deactivations(conn: psycopg.Connection[Any]) -> list[Deactivation]:
    rows = conn.execute("SELECT session_id, last_activity, tx_now, at, xid::text::bigint "
                        "FROM public.race_deactivations ORDER BY at").fetchall()
    return [Deactivation(*row) for row in rows]


def assert_each_deactivated_once_by_its_caller(log: list[Deactivation], counts_by_xid: dict[int, int]) -> None:
    """No session counted twice, and each caller's count is exactly what its transaction deactivated."""
    repeated = [sid for sid, n in Counter(d.session_id for d in log).items() if n > 1]
    assert not repeated, f"sessions deactivated more than once: {repeated[:5]}"
    logged = Counter(d.xid for d in log)
    assert sum(counts_by_xid.values()) == len(log)
    assert {xid: n for xid, n in counts_by_xid.items() if n} == dict(logged)


def seed_sessions(conn: psycopg.Connection[Any], count: int, idle: timedelta, prefix: str) -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(count)]
    conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity")
                    SELECT unnest(%s::text[]), %s, 'geral', now() - %s""", [ids, USER, idle])
    return ids


def cleanup(conn: psycopg.Connection[Any], timeout: timedelta | None = None) -> tuple[int, int]:
    """One cleanup_old_sessions call in its own transaction: (count, transaction id)."""
    row = conn.execute("SELECT session_manager.cleanup_old_sessions(%s), pg_current_xact_id()::text::bigint",
                       [timeout]).fetchone()
    assert row is not None
    return row[0], row[1]


def final_cleanup(conn: psycopg.Connection[Any], idle: timedelta) -> tuple[tuple[int, int], int]:
    """A last cleanup once the race is over, and how many sessions idle past `idle` it left active,
    judged by the same now() (a later one would count sessions that crossed the line since)."""
    with conn.transaction():
        done = cleanup(conn, idle)
        row = conn.execute("""SELECT count(*) FROM public."conversationSessions"
                              WHERE "isActive" AND "lastActivity" < now() - %s""", [idle]).fetchone()
    assert row is not None
    return done, row[0]


# -- get_or_create_session ---------------------------------------------------------------


@pytest.fixture()
def fifty(dsn: str) -> Iterator[list[psycopg.Connection[Any]]]:
    """Fifty connections, opened before the race so that the race is the calls, not the logins."""
    conns = [connect(dsn) for _ in range(50)]
    yield conns
    for c in conns:
        c.close()


def race_for_the_chat(conns: list[psycopg.Connection[Any]]) -> list[str]:
    barrier = threading.Barrier(len(conns))

    def call(i: int) -> str:
        barrier.wait(timeout=10)
        row = conns[i].execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'geral', %s)",
                               [USER, CHAT]).fetchone()
        assert row is not None
        return str(row[0])

    return in_threads(len(conns), call)


def chat_sessions(conn: psycopg.Connection[Any]) -> list[tuple[str, bool]]:
    return [(r[0], r[1]) for r in conn.execute(
        'SELECT id, "isActive" FROM public."conversationSessions" WHERE "userId" = %s AND "chatId" = %s',
        [USER, CHAT]).fetchall()]


def test_fifty_concurrent_callers_for_one_chat_get_one_session(fifty: list[psycopg.Connection[Any]]) -> None:
    ids = race_for_the_chat(fifty)

    assert len(set(ids)) == 1, f"{len(set(ids))} sessions for one chat"
    assert chat_sessions(fifty[0]) == [(ids[0], True)]
    record_proof("get_or_create_fifty_callers", part=1, title="Fifty concurrent callers for one new chat",
                 workers="50 connections, released together by a barrier", operations="50 get_or_create_session calls",
                 rows_checked="50 answers; the chat's sessions afterwards",
                 failures="0: one session returned to all 50, one row for the chat")


def test_fifty_concurrent_callers_for_a_stale_chat_all_get_the_same_new_session(
        fifty: list[psycopg.Connection[Any]]) -> None:
    conn = fifty[0]
    current = race_for_the_chat(fifty)[0]
    for round_ in range(1, 5):
        conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '2 hours'
                        WHERE id = %s""", [current])

        ids = race_for_the_chat(fifty)

        assert len(set(ids)) == 1, f"round {round_}: {len(set(ids))} sessions for one chat"
        assert ids[0] != current, f"round {round_}: the stale session was handed out again"
        sessions = dict(chat_sessions(conn))
        assert sessions[current] is False, f"round {round_}: the stale session is still active"
        assert [sid for sid, active in sessions.items() if active] == [ids[0]]
        assert len(sessions) == round_ + 1, f"round {round_}: sessions created and lost: {sorted(sessions)}"
        current = ids[0]
    record_proof("get_or_create_fifty_callers_stale", part=1,
                 title="Fifty concurrent callers for a chat gone stale, 4 rounds",
                 workers="50 connections, released together by a barrier each round",
                 operations="250 get_or_create_session calls (50 creating, then 4 rounds of 50 over a stale session)",
                 rows_checked="200 answers; the chat's sessions after each round",
                 failures="0: each round one new session for all 50, the stale one closed, none lost")


# -- touch_session against cleanup_old_sessions ------------------------------------------------


@dataclass(frozen=True)
class Touch:
    session_id: str
    ok: bool
    tx_now: datetime
    last_activity: datetime  # read right after the touch, in its transaction
    is_active: bool
    clock: datetime  # clock_timestamp() after the touch, before its commit


def test_cleanup_never_deactivates_a_session_touched_within_the_timeout(stretched: str) -> None:
    dsn = stretched
    idle = timedelta(seconds=2)
    with connect(dsn) as conn:
        ids = seed_sessions(conn, 300, timedelta(0), "touched")
    stop = threading.Event()
    conns = [connect(dsn) for _ in range(5)]
    # When each session was last acknowledged a touch (client clock), for those still active:
    # rescuers touch the ones closest to the timeout, which is where cleanup meets them.
    acknowledged = {sid: time.monotonic() for sid in ids}
    guard = threading.Lock()

    def most_at_risk() -> str:
        with guard:
            oldest = sorted(acknowledged, key=acknowledged.__getitem__)[:5]
        return random.choice(oldest) if oldest else random.choice(ids)

    def toucher(conn: psycopg.Connection[Any], pick: Callable[[], str]) -> Touch:
        sid = pick()
        with conn.transaction():
            ok, tx_now = conn.execute("SELECT session_manager.touch_session(%s), now()", [sid]).fetchone() or ()
            last, active, clock = conn.execute("""SELECT "lastActivity", "isActive", clock_timestamp()
                FROM public."conversationSessions" WHERE id = %s""", [sid]).fetchone() or ()
        with guard:
            if ok:
                acknowledged[sid] = time.monotonic()
            else:
                acknowledged.pop(sid, None)
        return Touch(sid, ok, tx_now, last, active, clock)

    def work(i: int) -> list[Any]:
        if i < 2:  # two cleanups at once, as pg_cron and a DBA might run them
            return until(stop, lambda: cleanup(conns[i], idle), pause=0.1)
        if i < 4:
            return until(stop, lambda: toucher(conns[i], lambda: random.choice(ids)), pause=0.03)
        return until(stop, lambda: toucher(conns[i], most_at_risk), pause=0.03)

    results = run_for(8.0, stop, conns, work)

    with connect(dsn) as conn:
        final, still_idle = final_cleanup(conn, idle)
        log = deactivations(conn)
    cleanups = [c for r in results[:2] for c in r] + [final]
    touches: list[Touch] = [t for r in results[2:] for t in r]
    deactivated = {d.session_id: d for d in log}

    assert still_idle == 0, "a session idle past the timeout is still active after the last cleanup"
    assert_each_deactivated_once_by_its_caller(log, {xid: n for n, xid in cleanups})
    for d in log:
        assert d.last_activity < d.tx_now - idle, f"{d} was deactivated within the timeout"
    for t in touches:
        d = deactivated.get(t.session_id)
        if t.ok:
            assert t.is_active and t.last_activity >= t.tx_now, f"{t} was acknowledged but not recorded"
            assert d is None or t.clock < d.at, f"{t} was acknowledged after {d}"
            assert d is None or d.last_activity >= t.last_activity, f"{d} lost the touch {t}"
        else:
            assert d is not None and d.at < t.clock, f"{t} was refused while its session was active"
    # The race was run: sessions were both touched and cleaned while it lasted.
    assert sum(t.ok for t in touches) > 200 and len(log) > 20, (len(touches), len(log))
    record_proof("touch_vs_two_cleanups_stretched", part=1,
                 title="Touches aimed at the sessions closest to the timeout against two cleanups (1 ms lock stretch)",
                 workers="3 touch connections (one on the 5 sessions nearest the timeout), 2 cleanup connections",
                 operations=f"{len(touches):,} touches ({sum(t.ok for t in touches):,} true), "
                            f"{len(cleanups):,} cleanups",
                 duration_s=8.0, rows_checked=f"{len(log):,} deactivations against every touch; 300 sessions",
                 failures="0 touches lost, 0 deactivations within the timeout, 0 counted twice")


# -- two cleanups over many idle sessions ---------------------------------------------------


def test_two_concurrent_cleanups_count_each_idle_session_exactly_once(dsn: str) -> None:
    with connect(dsn) as conn:
        conn.execute("UPDATE session_manager.settings SET cleanup_batch_size = 100")
    conns = [connect(dsn) for _ in range(2)]
    try:
        for round_ in range(3):
            with connect(dsn) as conn:
                seed_sessions(conn, 5000, timedelta(hours=1), f"idle{round_}")
            barrier = threading.Barrier(2)

            def run(i: int, barrier: threading.Barrier = barrier) -> tuple[int, int]:
                barrier.wait(timeout=10)
                return cleanup(conns[i])

            counts = in_threads(2, run)

            assert sum(n for n, _ in counts) == 5000, f"round {round_}: {counts}"
            with connect(dsn) as conn:
                log = [d for d in deactivations(conn) if d.session_id.startswith(f"idle{round_}-")]
                active = conn.execute('SELECT count(*) FROM public."conversationSessions" WHERE "isActive"').fetchone()
            assert active == (0,)
            assert_each_deactivated_once_by_its_caller(log, {xid: n for n, xid in counts})
        record_proof("two_cleanups_at_once", part=1, title="Two cleanups at once over 5,000 idle sessions, 3 rounds",
                     workers="2 cleanup connections, released together by a barrier",
                     operations="6 cleanup_old_sessions calls in batches of 100", rows_checked="15,000 deactivations",
                     failures="0 counted twice, 0 missed: the two counts add up to 5,000 each round, no deadlock")
    finally:
        for c in conns:
            c.close()


# -- cleanup against end_session and append_message -------------------------------------------


@dataclass(frozen=True)
class Call:
    kind: str  # 'append' or 'end'
    session_id: str
    ok: bool
    live_after: bool  # the session read right after the call, in its transaction: active and within the timeout
    clock: datetime
    xid: int


def test_cleanup_end_session_and_append_message_race_without_deadlock_or_late_messages(stretched: str) -> None:
    dsn = stretched
    idle = timedelta(seconds=2)
    with connect(dsn) as conn:
        # The setting, not an argument: append_message and end_session judge liveness by it too.
        conn.execute("UPDATE session_manager.settings SET idle_timeout = %s, cleanup_batch_size = 50", [idle])
        ids = seed_sessions(conn, 300, timedelta(0), "chat")
    stop = threading.Event()
    conns = [connect(dsn) for _ in range(9)]
    start = time.monotonic()

    def window(offset: int, size: int) -> list[str]:
        # Moves along the sessions, 50 a second, so that calls crowd onto the same few at a time.
        first = int((time.monotonic() - start) * 50) + offset
        return [ids[(first + k) % len(ids)] for k in range(size)]

    def hot() -> str:
        # Mostly the 30 sessions of the window; now and then any, most of them near or past the timeout.
        return random.choice(window(0, 30)) if random.random() < 0.8 else random.choice(ids)

    read_back = """SELECT "isActive" AND "lastActivity" >= now() - %s, clock_timestamp(),
                          pg_current_xact_id()::text::bigint
                   FROM public."conversationSessions" WHERE id = %s"""

    def append(conn: psycopg.Connection[Any]) -> Call:
        sid = hot()
        ok = True
        with conn.transaction():
            try:
                with conn.transaction():  # a savepoint: the refusal leaves the transaction usable
                    conn.execute("SELECT session_manager.append_message(%s, 'user', 'oi')", [sid])
            except psycopg.errors.ObjectNotInPrerequisiteState:
                ok = False
            live, clock, xid = conn.execute(read_back, [idle, sid]).fetchone() or ()
        return Call("append", sid, ok, live, clock, xid)

    def end(conn: psycopg.Connection[Any]) -> Call:
        sid = hot()
        with conn.transaction():
            ok = conn.execute("SELECT session_manager.end_session(%s)", [sid]).fetchone() == (True,)
            live, clock, xid = conn.execute(read_back, [idle, sid]).fetchone() or ()
        return Call("end", sid, ok, live, clock, xid)

    def keep_ahead_live(conn: psycopg.Connection[Any]) -> int:
        # The sessions the window reaches within the next two seconds stay live until it does.
        row = conn.execute("SELECT session_manager.touch_sessions(%s)", [window(30, 100)]).fetchone()
        return int(row[0]) if row else 0

    def work(i: int) -> list[Any]:
        if i < 2:
            return until(stop, lambda: cleanup(conns[i]), pause=0.1)
        if i < 4:
            return until(stop, lambda: end(conns[i]), pause=0.1)
        if i < 5:
            return until(stop, lambda: keep_ahead_live(conns[i]), pause=0.3)
        return until(stop, lambda: append(conns[i]), pause=0.03)

    results = run_for(6.0, stop, conns, work)

    with connect(dsn) as conn:
        final, still_idle = final_cleanup(conn, idle)
        log = deactivations(conn)
        messages = conn.execute("SELECT m.session_id, m.created_at FROM session_manager.messages m").fetchall()
        miscounted = conn.execute("""
            SELECT s.id, k.message_count, (SELECT count(*) FROM session_manager.messages m WHERE m.session_id = s.id)
            FROM public."conversationSessions" s
            LEFT JOIN session_manager.session_message_counts k ON k.session_id = s.id
            WHERE coalesce(k.message_count, 0) <> (SELECT count(*) FROM session_manager.messages m
                                                   WHERE m.session_id = s.id)""").fetchall()
    cleanups = [c for r in results[:2] for c in r] + [final]
    calls: list[Call] = [c for r in results[2:4] + results[5:] for c in r]
    appended = [c for c in calls if c.kind == "append" and c.ok]
    ended = [c for c in calls if c.kind == "end" and c.ok]
    deactivated = {d.session_id: d for d in log}

    counts_by_xid: dict[int, int] = defaultdict(int)
    for n, xid in cleanups:
        counts_by_xid[xid] += n
    for c in ended:
        counts_by_xid[c.xid] += 1
    assert still_idle == 0, "a session idle past the timeout is still active after the last cleanup"
    assert_each_deactivated_once_by_its_caller(log, counts_by_xid)
    for c in calls:
        d = deactivated.get(c.session_id)
        if c.kind == "append" and c.ok:
            assert c.live_after, f"{c}: the session was not live right after the message was stored"
            assert d is None or c.clock < d.at, f"{c}: a message was stored after {d}"
        elif c.kind == "append":
            assert not c.live_after, f"{c}: refused with 55000 while the session was live"
        elif c.ok:
            assert d is not None and d.xid == c.xid, f"{c}: end_session returned true, but {d}"
        else:
            assert not c.live_after, f"{c}: end_session returned false for a live session"
    for sid, created_at in messages:
        d = deactivated.get(sid)
        assert d is None or created_at < d.at, f"a message of {created_at} in a session deactivated by {d}"
    assert len(messages) == len(appended), "messages stored do not match the acknowledged appends"
    assert miscounted == [], "message_count differs from the messages stored"
    # The race was run: messages stored and refused, sessions ended and cleaned.
    kinds = Counter((c.kind, c.ok) for c in calls)
    assert kinds[("append", True)] > 100 and kinds[("append", False)] > 10 and len(ended) > 10, kinds
    assert len(log) > len(ended), "cleanup deactivated nothing"
    record_proof("cleanup_vs_end_and_append", part=1,
                 title="Cleanup during end_session and append_message (1 ms lock stretch), idle timeout 2 s",
                 workers="2 cleanup, 2 end_session, 4 append_message, 1 touch_sessions connections",
                 operations=f"{kinds[('append', True)]:,} appends stored, {kinds[('append', False)]:,} refused "
                            f"(55000), {len(ended):,} end_session true, {kinds[('end', False)]:,} false, "
                            f"{len(cleanups):,} cleanups",
                 duration_s=6.0,
                 rows_checked=f"{len(log):,} deactivations, {len(messages):,} messages, every session's message_count",
                 failures="0 deadlocks, 0 counted twice, 0 messages stored in a closed session, 0 counts wrong")
