"""A safe migration: deploy onto 1,000,000 existing sessions while the application keeps writing, append a
million messages through the package, revert, and deploy again, the writer running through the deploys
and the revert.

The writer does what the application's ORM does (as the tables' owner, knowing nothing of the package):
inserts sessions and users, updates titles and "updatedAt", deletes sessions, reads a user's sessions,
with lock_timeout = '1s'. Any lock timeout, any error, fails the test. The application's columns of every
row the writer never touches are compared by count and checksum before and after each step; the rows it
does write are checked against what it last wrote.

The same writer then meets open application transactions in front of every script that locks
"conversationSessions" (deploy, revert, deploy on 20,000 sessions), and a deploy that cannot get its lock
within lock_retry_seconds, which must give up whole.
"""
from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
import pytest

from conftest import Server
from fault_fixtures import own_cluster, server_of
from reliability_report import record_proof

SESSIONS = 1_000_000
USERS = 100_000
WRITER_EVERY = 200  # the writer updates the pre-existing sessions seed-N with N % 200 = 0 (5,000 of them)
MESSAGE_SESSIONS = 10_000
MESSAGES_PER_SESSION = 100  # 1,000,000 messages
LOCK_TIMEOUT = "1s"


def seed(sessions: int, users: int) -> str:
    """Existing sessions as app_seed.sql makes them: "updatedAt" over the last five days."""
    return f"""
INSERT INTO public."user" (id, email, name)
SELECT 'user-' || i, 'user' || i || '@example.com', 'User ' || i FROM generate_series(1, {users}) i;
INSERT INTO public."conversationSessions" (id, "userId", agent, title, "createdAt", "updatedAt")
SELECT 'seed-' || i, 'user-' || (1 + i % {users}), (ARRAY['financeiro', 'max', 'geral'])[1 + i % 3],
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'Conversa ' || i END, t - interval '1 hour', t
FROM generate_series(1, {sessions}) i,
     LATERAL (SELECT (now() - (i % 7200) * interval '1 minute' - (i % 1000) * interval '1 ms')::timestamp AS t) ts;
"""


# The rows nobody writes during the test: the seeded sessions outside the writer's set.
UNTOUCHED = f"""id LIKE 'seed-%' AND substr(id, 6)::integer % {WRITER_EVERY} <> 0"""
APP_CHECKSUM = f"""
SELECT count(*), sum(hashtextextended(row(id, "userId", agent, title, "createdAt", "updatedAt")::text, 0)::numeric)
FROM public."conversationSessions" WHERE {UNTOUCHED}
UNION ALL
SELECT count(*), sum(hashtextextended(u::text, 0)::numeric) FROM public."user" u WHERE id LIKE 'user-%'
"""
NEW_COLUMNS_WRONG = f"""
SELECT count(*) FILTER (WHERE "lastActivity" IS DISTINCT FROM "updatedAt"::timestamptz),
       count(*) FILTER (WHERE NOT "isActive"),
       count(*) FILTER (WHERE "chatId" IS NOT NULL)
FROM public."conversationSessions" WHERE {UNTOUCHED}
"""


@dataclass
class Writer:
    """The application writing through the migration: what it wrote last, and how each statement went."""

    dsn: str
    seeded_sessions: int = SESSIONS
    seeded_users: int = USERS
    stop: threading.Event = field(default_factory=threading.Event)
    paused: threading.Event = field(default_factory=threading.Event)
    sessions: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # w-N -> (userId, agent, title)
    deleted: set[str] = field(default_factory=set)
    updated: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # seed-N -> (title, "updatedAt")
    users: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    star_errors: dict[str, int] = field(default_factory=dict)  # phase -> 0A000 of the prepared SELECT *
    statements: int = 0
    longest: float = 0.0
    longest_during: str = ""
    phase: str = "before"

    def run(self) -> None:
        rng = random.Random(7)
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")  # type: ignore[arg-type]
            i = 0
            while not self.stop.is_set():
                if self.paused.is_set():
                    time.sleep(0.05)
                    continue
                i += 1
                try:
                    self.step(conn, rng, i)
                except psycopg.Error as exc:
                    self.errors.append(f"{self.phase}: {exc.sqlstate} {exc}")
                time.sleep(0.01)  # a busy application, not a benchmark: the two cores are shared with the deploy

    def timed(self, conn: psycopg.Connection, sql: str, params: tuple[Any, ...]) -> Any:
        started = time.perf_counter()
        row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
        took = time.perf_counter() - started
        self.statements += 1
        if took > self.longest:
            self.longest, self.longest_during = took, self.phase
        return row

    def step(self, conn: psycopg.Connection, rng: random.Random, i: int) -> None:
        user = f"user-{rng.randint(1, self.seeded_users)}"
        sid, agent, title = f"w-{i}", rng.choice(["financeiro", "max", "geral"]), f"Nova conversa {i}"
        # The ORM's insert: the application's columns only (the package's get their defaults)
        self.timed(conn, """INSERT INTO public."conversationSessions" (id, "userId", agent, title)
                            VALUES (%s, %s, %s, %s) RETURNING id""", (sid, user, agent, title))
        self.sessions[sid] = (user, agent, title)
        target = f"seed-{WRITER_EVERY * rng.randint(1, self.seeded_sessions // WRITER_EVERY)}"
        new_title = f"Renamed {i}"
        row = self.timed(conn, """UPDATE public."conversationSessions" SET title = %s, "updatedAt" = now()
                                  WHERE id = %s RETURNING "updatedAt" """, (new_title, target))
        self.updated[target] = (new_title, row[0])
        if i % 10 == 0:
            own = f"w-{rng.randint(1, i)}"
            if own not in self.deleted:
                self.timed(conn, """UPDATE public."conversationSessions" SET title = %s, "updatedAt" = now()
                                    WHERE id = %s RETURNING id""", (f"Edited {i}", own))
                self.sessions[own] = (*self.sessions[own][:2], f"Edited {i}")
        if i % 20 == 0:
            gone = f"w-{rng.randint(1, i)}"
            self.timed(conn, 'DELETE FROM public."conversationSessions" WHERE id = %s RETURNING id', (gone,))
            self.deleted.add(gone)
        if i % 50 == 0:
            self.timed(conn, """INSERT INTO public."user" (id, email) VALUES (%s, %s) RETURNING id""",
                       (f"wu-{i}", f"wu{i}@example.com"))
            self.users.add(f"wu-{i}")
        # the ORM's read of one session, its columns named (Drizzle never sends SELECT *)
        self.timed(conn, """SELECT id, "userId", agent, title, "createdAt", "updatedAt"
                            FROM public."conversationSessions" WHERE id = %s""", (target,))
        # SELECT * through a server-side prepared statement (psycopg prepares after 5 runs): its result
        # type changes with the package's columns; counted apart, not a failure of the package
        try:
            self.timed(conn, 'SELECT * FROM public."conversationSessions" WHERE id = %s', (target,))
        except psycopg.errors.FeatureNotSupported:
            self.star_errors[self.phase] = self.star_errors.get(self.phase, 0) + 1

    def check(self, conn: psycopg.Connection) -> list[str]:
        """Differences between what the writer last wrote and what the table holds."""
        rows = {r[0]: r[1:] for r in conn.execute(
            """SELECT id, "userId", agent, title, "updatedAt" FROM public."conversationSessions"
               WHERE id LIKE 'w-%%' OR (id LIKE 'seed-%%' AND substr(id, 6)::integer %% %s = 0)""", (WRITER_EVERY,))}
        wrong = [sid for sid, v in self.sessions.items() if sid not in self.deleted and rows.get(sid, (None,))[:3] != v]
        wrong += [sid for sid in self.deleted if sid in rows]
        wrong += [sid for sid, (title, at) in self.updated.items() if rows.get(sid, (None,) * 4)[2:] != (title, at)]
        users = {r[0] for r in conn.execute("SELECT id FROM public.\"user\" WHERE id LIKE 'wu-%'")}
        return wrong + sorted(self.users ^ users)


@dataclass
class LockWaits:
    """Samples, every 50 ms, who waits on a lock in the database and behind whom: what a failure of the
    writer reports, so that a lock timeout in CI names what queued it."""

    dsn: str
    stop: threading.Event = field(default_factory=threading.Event)
    seen: list[tuple[float, str]] = field(default_factory=list)

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                for row in conn.execute("""
                        SELECT w.pid, w.backend_type, clock_timestamp() - w.state_change, left(w.query, 120),
                               (SELECT string_agg(concat_ws(' ', b.pid, b.backend_type, b.wait_event_type,
                                                            left(b.query, 120)), ' | ')
                                FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(w.pid)))
                        FROM pg_stat_activity w WHERE w.wait_event_type = 'Lock' AND w.pid <> pg_backend_pid()"""):
                    self.seen.append((time.time(), " ; ".join(str(x) for x in row)))
                time.sleep(0.05)


def package_columns(dsn: str) -> int:
    """How many of the package's three columns "conversationSessions" has."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("""SELECT count(*) FROM pg_attribute
                              WHERE attrelid = 'public."conversationSessions"'::regclass
                                AND attname IN ('lastActivity', 'isActive', 'chatId')
                                AND NOT attisdropped""").fetchone()
    return int(row[0]) if row else -1


@pytest.fixture(scope="module")
def million() -> Iterator[tuple[Server, str]]:
    with own_cluster(maintenance_work_mem="'256MB'") as cluster:
        server = server_of(cluster)
        server.create_app_database("sm_million")
        with psycopg.connect(server.dsn("sm_million"), autocommit=True) as conn:
            conn.execute(seed(SESSIONS, USERS))  # type: ignore[arg-type]
            conn.execute('VACUUM ANALYZE public."user", public."conversationSessions"')
        yield server, "sm_million"


def timed_sqitch(server: Server, verb: str, dbname: str, *args: str) -> tuple[float, int]:
    """Seconds the sqitch step took, and how many of its lock attempts found the table taken."""
    started = time.perf_counter()
    proc = server.sqitch(verb, dbname, *args)
    return time.perf_counter() - started, (proc.stdout + proc.stderr).count("waiting to lock")


def append_million(dsn: str) -> float:
    """1,000,000 messages through session_manager.append_message, in statements of 50,000 on two connections."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"""CREATE TABLE public.fault_message_sessions AS
                         SELECT row_number() OVER () AS n, (s).session_id AS id
                         FROM (SELECT session_manager.get_or_create_session('user-' || u, 'geral', 'chat-' || u) s
                               FROM generate_series(1, {MESSAGE_SESSIONS}) u) x""")  # type: ignore[arg-type]
    per_statement = 500  # sessions x 100 messages = 50,000 messages a statement (and a transaction)

    def chunk(first: int) -> int:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute("""SELECT count(session_manager.append_message(s.id, 'user', 'message ' || g))
                                  FROM public.fault_message_sessions s, generate_series(1, %s) g
                                  WHERE s.n > %s AND s.n <= %s""",
                               (MESSAGES_PER_SESSION, first, first + per_statement)).fetchone()
        return int(row[0]) if row else 0

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        stored = sum(pool.map(chunk, range(0, MESSAGE_SESSIONS, per_statement)))
    assert stored == MESSAGE_SESSIONS * MESSAGES_PER_SESSION
    return time.perf_counter() - started


@pytest.mark.slow
@pytest.mark.timeout(1200)
# No VACUUM before the steps, as a DBA in a hurry would run them: autovacuum and autoanalyze of both
# tables are due after the million appends, and each script waits for its lock 100 ms at a time
# (the lock_with_retries block of each locking script). Before that, with one 3 s wait per script,
# the writer timed out in three of four CI runs during the revert.
def test_deploy_revert_deploy_on_a_million_live_sessions_keeps_the_application_data(
        million: tuple[Server, str]) -> None:
    server, dbname = million
    dsn = server.dsn(dbname)
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.perf_counter()
        before = conn.execute(APP_CHECKSUM).fetchall()  # type: ignore[arg-type]
        print(f"checksum: {time.perf_counter() - started:.1f} s", flush=True)
    assert before[0][0] == SESSIONS - SESSIONS // WRITER_EVERY and before[1][0] == USERS

    writer = Writer(dsn)
    thread = threading.Thread(target=writer.run)
    thread.start()
    lock_waits = LockWaits(dsn)
    sampler = threading.Thread(target=lock_waits.run)
    sampler.start()
    figures: dict[str, Any] = {}
    try:
        time.sleep(1)
        for step in ("deploy", "messages", "revert", "deploy again"):
            writer.phase = step
            statements = writer.statements
            waited = 0
            if step == "messages":  # the package's own load: the writer waits (two cores; the budget is minutes)
                writer.paused.set()
                seconds = append_million(dsn)
                writer.paused.clear()
            elif step == "revert":
                seconds, waited = timed_sqitch(server, "revert", dbname, "-y")
            else:
                seconds, waited = timed_sqitch(server, "deploy", dbname, "--set", "schedule=off")
            figures[f"{step.replace(' ', '_')}_s"] = round(seconds, 1)
            if step != "messages":
                figures[f"lock_attempts_that_waited_during_{step.replace(' ', '_')}"] = waited
            print(f"{step}: {seconds:.1f} s, writer {writer.statements - statements} statements", flush=True)
            figures[f"writer_statements_during_{step.replace(' ', '_')}"] = writer.statements - statements
            with psycopg.connect(dsn, autocommit=True) as conn:
                after = conn.execute(APP_CHECKSUM).fetchall()  # type: ignore[arg-type]
                assert after == before, f"the application's data changed during {step}"
                if step != "revert":
                    wrong = conn.execute(NEW_COLUMNS_WRONG).fetchone()  # type: ignore[arg-type]
                    assert wrong == (0, 0, 0), f"new columns wrong after {step}: {wrong}"
                    new_rows = conn.execute("""SELECT count(*) FILTER (WHERE "lastActivity" IS NULL OR NOT "isActive"
                                                                    OR "chatId" IS NOT NULL)
                                               FROM public."conversationSessions" WHERE id LIKE 'w-%'""").fetchone()
                    assert new_rows == (0,), f"the writer's sessions got wrong package columns after {step}"
                else:
                    assert package_columns(dsn) == 0 and conn.execute(
                        "SELECT to_regnamespace('session_manager')").fetchone() == (None,)
            assert not writer.errors, (writer.errors[:5], lock_waits.seen[-40:])
    finally:
        lock_waits.stop.set()
        sampler.join(30)
        writer.stop.set()
        thread.join(30)
    with psycopg.connect(dsn, autocommit=True) as conn:
        wrong = writer.check(conn)
        messages = conn.execute("SELECT count(*) FROM session_manager.messages").fetchone()
    assert not wrong, f"rows the writer wrote are not as it left them: {wrong[:10]}"
    # a lock wait ends in an error at 1 s (none happened); this bounds every other kind of stall
    assert writer.longest < 5.0, (writer.longest, writer.longest_during)
    assert messages == (0,)  # the redeploy starts a fresh message store: revert dropped the million
    record_proof(
        "migration_million_live_rows", part=2, title="Deploy, a million messages, revert, deploy: 1,000,000 live rows",
        data=f"{SESSIONS:,} existing sessions of {USERS:,} users, \"updatedAt\" over five days",
        writer=f"the application's statements (insert/update/delete sessions, insert users, read) with lock_timeout = "
               f"'{LOCK_TIMEOUT}', {writer.statements:,} statements in all",
        **figures,
        messages_appended=f"{MESSAGE_SESSIONS * MESSAGES_PER_SESSION:,} through session_manager.append_message "
                          f"({MESSAGE_SESSIONS:,} sessions from get_or_create_session)",
        rows_checked=f"{before[0][0]:,} untouched sessions and {before[1][0]:,} users by count and checksum after "
                     f"each of the 4 steps; new columns of those sessions after each deploy; {len(writer.sessions):,} "
                     f"sessions inserted, {len(writer.updated):,} updated and {len(writer.deleted):,} deleted by the "
                     "writer checked against what it last wrote",
        writer_longest_statement_s=f"{writer.longest:.3f} (during {writer.longest_during})",
        prepared_select_star=f"{sum(writer.star_errors.values()):,} errors 0A000 'cached plan must not change result "
                             f"type' ({writer.star_errors or 'none'}): a prepared SELECT * breaks when the columns "
                             "change, and psycopg keeps it (the ORM's named columns do not)",
        failures=f"{len(writer.errors)} writer errors (lock timeouts included), 0 rows lost or altered",
    )


# -- Open transactions in the way -----------------------------------------------------------------------
# The case every migration of a live table meets: an application transaction that has written to
# "conversationSessions" and not committed yet (ROW EXCLUSIVE, which every ALTER TABLE, foreign key and
# concurrent index build must wait for), so the migration waits, and every statement of the application
# that arrives meanwhile waits behind it. The scripts take their lock 100 ms of waiting at a time
# (the lock_with_retries block of each locking script): the writer, with lock_timeout 1 s, must never be
# held up that long.

SMALL_SESSIONS, SMALL_USERS = 20_000, 2_000
# Who waits on the holder: a lock on the table in a mode that conflicts with its ROW EXCLUSIVE (the
# package's DDL; the writer's own modes do not conflict), or its transaction (CREATE/DROP INDEX CONCURRENTLY).
WAITING_ON = """SELECT l.locktype = 'relation' FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE NOT l.granted AND %s = ANY (pg_blocking_pids(l.pid))"""


@dataclass
class OpenTransactions:
    """One application transaction after another that has written to "conversationSessions" and stays open:
    each until a migration statement has waited on it for `hold_after_wait` seconds, then it commits and
    the next opens at once (so every locking script meets one); with hold_after_wait None, one transaction
    open until release()."""

    dsn: str
    hold_after_wait: float | None = None
    pid: int = 0
    table_waits: int = 0  # transactions a migration statement waited on for a lock on the table
    transaction_waits: int = 0  # ... for the transaction to end (concurrent index builds)
    longest_held_s: float = 0.0
    _release: threading.Event = field(default_factory=threading.Event)
    _open: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> OpenTransactions:
        self._thread = threading.Thread(target=self._run)
        self._thread.start()
        assert self._open.wait(10), "the first transaction never opened"
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        if self._thread:
            self._thread.join(60)

    def release(self) -> None:
        self._release.set()

    def _run(self) -> None:
        deadline = time.monotonic() + 120  # bounded: a migration that never comes does not hold the test forever
        with psycopg.connect(self.dsn, autocommit=True) as holder, psycopg.connect(self.dsn, autocommit=True) as watch:
            self.pid = holder.info.backend_pid
            while not self._release.is_set() and time.monotonic() < deadline:
                holder.execute("BEGIN")
                holder.execute('LOCK TABLE public."conversationSessions" IN ROW EXCLUSIVE MODE')
                opened, waited_at, on_table = time.monotonic(), None, False
                self._open.set()
                while not self._release.is_set() and time.monotonic() < deadline:
                    row = watch.execute(WAITING_ON, (self.pid,)).fetchone()  # type: ignore[arg-type]
                    if row and waited_at is None:
                        waited_at, on_table = time.monotonic(), bool(row[0])
                    if (self.hold_after_wait is not None and waited_at is not None
                            and time.monotonic() - waited_at >= self.hold_after_wait):
                        break
                    time.sleep(0.01)
                holder.execute("COMMIT")
                self.longest_held_s = max(self.longest_held_s, time.monotonic() - opened)
                if waited_at is not None:
                    if on_table:
                        self.table_waits += 1
                    else:
                        self.transaction_waits += 1
                if self.hold_after_wait is None:
                    break


@pytest.fixture()
def small_app(server: Server, request: pytest.FixtureRequest) -> Iterator[str]:
    """The application's database with 20,000 sessions of 2,000 users, without the package."""
    dbname = "sm_lockwait_" + request.node.name[-30:].lower()
    server.create_app_database(dbname)
    with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
        conn.execute(seed(SMALL_SESSIONS, SMALL_USERS))  # type: ignore[arg-type]
    yield dbname
    server.drop(dbname)


@contextlib.contextmanager
def writing(dsn: str) -> Iterator[Writer]:
    writer = Writer(dsn, seeded_sessions=SMALL_SESSIONS, seeded_users=SMALL_USERS)
    thread = threading.Thread(target=writer.run)
    thread.start()
    try:
        time.sleep(0.5)
        yield writer
    finally:
        writer.stop.set()
        thread.join(30)


# The scripts that lock "conversationSessions" strongly: deploy: session_columns, the backfill's two
# moments, messages, row_level_security; revert: row_level_security, messages, the backfill, session_columns.
LOCKING_SCRIPTS = {"deploy": 5, "revert": 4, "deploy again": 5}


@pytest.mark.timeout(300)
def test_deploy_and_revert_wait_for_open_transactions_without_queueing_the_application(
        server: Server, small_app: str) -> None:
    dsn = server.dsn(small_app)
    figures: dict[str, Any] = {}
    with writing(dsn) as writer:
        for step, verb, args in (("deploy", "deploy", ("--set", "schedule=off")), ("revert", "revert", ("-y",)),
                                 ("deploy again", "deploy", ("--set", "schedule=off"))):
            writer.phase = step
            longest_before, writer.longest = writer.longest, 0.0
            with OpenTransactions(dsn, hold_after_wait=0.5) as holder:
                started = time.perf_counter()
                proc = server.sqitch(verb, small_app, *args)
                took = time.perf_counter() - started
            # every locking script met an open transaction, or this proved less than it says
            assert holder.table_waits >= LOCKING_SCRIPTS[step], (step, holder.table_waits)
            assert (proc.stdout + proc.stderr).count("waiting to lock") >= LOCKING_SCRIPTS[step]
            assert not writer.errors, writer.errors[:5]
            key = step.replace(" ", "_")
            figures[f"{key}_s"] = round(took, 1)
            figures[f"{key}_waits_on_open_transactions"] = (f"{holder.table_waits} for a lock on the table, "
                                                            f"{holder.transaction_waits} for the transaction to end")
            figures[f"{key}_writer_longest_statement_s"] = round(writer.longest, 3)
            writer.longest = max(writer.longest, longest_before)
            assert package_columns(dsn) == (0 if step == "revert" else 3)
    with psycopg.connect(dsn, autocommit=True) as conn:
        wrong = writer.check(conn)
    assert not wrong, wrong[:10]
    # A statement waits at most one attempt (100 ms) behind a migration, plus the DDL statement itself;
    # 0.5 s leaves room for a loaded machine and is half the writer's own lock_timeout.
    assert writer.longest < 0.5, (writer.longest, writer.longest_during)
    record_proof(
        "migration_open_transactions", part=2,
        title="Deploy, revert, deploy past open application transactions, the application writing",
        data=f"{SMALL_SESSIONS:,} existing sessions of {SMALL_USERS:,} users",
        fault="through each step, one application transaction after another holds ROW EXCLUSIVE on "
              "\"conversationSessions\" and stays open until a migration statement has waited on it for 0.5 s",
        writer=f"the application's statements with lock_timeout = '{LOCK_TIMEOUT}', {writer.statements:,} in all",
        **figures,
        failures=f"{len(writer.errors)} writer errors (lock timeouts included), "
                 f"{len(wrong)} of the writer's rows not as it left them",
    )


@pytest.mark.timeout(300)
def test_a_deploy_that_cannot_get_its_lock_gives_up_whole_naming_the_holder(server: Server, small_app: str) -> None:
    dsn = server.dsn(small_app)
    with writing(dsn) as writer, OpenTransactions(dsn) as holder:
        started = time.perf_counter()
        proc = server.sqitch("deploy", small_app, "--set", "schedule=off", "--set", "lock_retry_seconds=2",
                             check=False)
        gave_up_s = time.perf_counter() - started
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, output
        assert 'could not lock public."conversationSessions" in ACCESS EXCLUSIVE mode within 2 s' in output, output
        assert f"pid {holder.pid} (client backend, RowExclusiveLock" in output, output
        assert "Nothing of this transaction was applied" in output
        assert package_columns(dsn) == 0  # session_columns left nothing behind
        with psycopg.connect(dsn, autocommit=True) as conn:
            deployed = [r[0] for r in conn.execute("SELECT change FROM sqitch.changes ORDER BY committed_at")]
        assert deployed == ["app_tables_check", "schema"]
        holder.release()
        assert not writer.errors, writer.errors[:5]
        longest = writer.longest
    server.sqitch("deploy", small_app, "--set", "schedule=off")  # the DBA runs it again, later: it goes on
    assert package_columns(dsn) == 3
    assert longest < 0.5
    record_proof(
        "migration_gives_up", part=2, title="A deploy that cannot get its lock gives up whole",
        fault="an application transaction keeps \"conversationSessions\" open (ROW EXCLUSIVE) for the whole deploy, "
              "with lock_retry_seconds=2",
        gave_up_after_s=round(gave_up_s, 1),
        writer_longest_statement_s=round(longest, 3),
        error="55P03 naming the open transaction's pid; session_columns not recorded, no column added; the next "
              "deploy went on",
        failures=f"{len(writer.errors)} writer errors",
    )
