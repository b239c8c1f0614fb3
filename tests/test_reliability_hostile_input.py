"""Reliability proofs, part 1: hostile input (issue 9).

Property-based tests (hypothesis) over every SQL function of the package, called directly through
psycopg, and over every public method of the client: arbitrary Unicode, empty and huge strings,
injection attempts in every text argument, out-of-range numbers and intervals, NULLs (and, for the
client, NUL bytes). Each call is judged by an oracle written from the contract against a small fixed
state (two users, a live, an ended and an idle session, one message): it gets the contract's SQLSTATE
or exactly the right result. A checksum of the package's tables (md5 over every row of "user",
"conversationSessions" with its new columns, messages, session_message_counts, settings, cleanup_runs)
is taken before and after each call: a rejected call, a read and a "false"/0 answer change nothing; after
a call that rightly wrote, the state is put back.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from reliability_report import record_proof
from session_manager import AsyncSessionManager, SessionManager, SessionManagerError

MAX_CONTENT = 2000  # max_content_length in this module's database: "huge" stays cheap to generate
MAX_METADATA = 5000  # max_metadata_bytes here; generated metadata is either well under it or well over it
MAX_BATCH = 5  # max_batch_messages here
MESSAGE_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
LIVE = {"live-1": "u1", "live-2": "u2"}
SESSIONS = {**LIVE, "ended-1": "u1", "idle-1": "u1"}
USERS = ("u1", "u2")
AGENTS = ("financeiro", "max", "geral")
INT4 = 2**31
UUID_TEXT = re.compile(r"\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?", re.IGNORECASE)

STATE = f"""
TRUNCATE public."user", session_manager.cleanup_runs CASCADE;
INSERT INTO public."user" (id, email, "createdAt") VALUES ('u1', 'u1@example.com', '2026-01-01'),
                                                          ('u2', 'u2@example.com', '2026-01-01');
INSERT INTO public."conversationSessions" (id, "userId", agent, title, "chatId", "isActive", "lastActivity",
                                           "createdAt", "updatedAt") VALUES
  ('live-1', 'u1', 'geral', 'Boleto', 'c1', true, now(), now() - interval '3 hours', '2026-01-01'),
  ('live-2', 'u2', 'max', NULL, 'c1', true, now(), now() - interval '3 hours', '2026-01-01'),
  ('ended-1', 'u1', 'geral', NULL, 'c1', false, now() - interval '3 hours', now() - interval '3 hours', '2026-01-01'),
  ('idle-1', 'u1', 'financeiro', NULL, 'c2', true, now() - interval '2 hours', now() - interval '3 hours',
   '2026-01-01');
INSERT INTO session_manager.messages (message_id, session_id, role, content)
  VALUES ('{MESSAGE_ID}', 'live-1', 'user', 'Oi');
INSERT INTO session_manager.session_message_counts VALUES ('live-1', 1);
"""

CHECKSUM = """
SELECT md5(concat_ws('|',
  (SELECT string_agg(u::text, ',' ORDER BY u.id) FROM public."user" u),
  (SELECT string_agg(c::text, ',' ORDER BY c.id) FROM public."conversationSessions" c),
  (SELECT string_agg(m::text, ',' ORDER BY m.id) FROM session_manager.messages m),
  (SELECT string_agg(k::text, ',' ORDER BY k.session_id) FROM session_manager.session_message_counts k),
  (SELECT s::text FROM session_manager.settings s),
  (SELECT string_agg(r::text, ',' ORDER BY r.run_id) FROM session_manager.cleanup_runs r)))
"""

INJECTIONS = [
    "'; DROP TABLE public.\"conversationSessions\"; --",
    "live-1'; UPDATE session_manager.settings SET idle_timeout = '1 us'; --",
    "live-1' OR '1'='1",
    "' OR 1=1 --",
    "$$; DROP SCHEMA session_manager CASCADE; $$",
    "$x$ || pg_sleep(1) || $x$",
    "\\", "\\'", "'", "''", '"', '";--', "\\x00", "\\0", "%s", "%(x)s", "{}", "E'\\\\'",
    "NULL", "null", "DEFAULT", "*", "%", "_", "live-%", "u_",
    " live-1", "live-1 ", "LIVE-1", "live-1\n", "live\u200b-1", "\u202eevil", "\ufeffu1", "geral ", "GERAL",
    "user\t", "assistant;", "🙂" * 10, "𝄞", "ﬃ", "İ", "ß",
]
HUGE = ["x" * (MAX_CONTENT + 1), "é" * (MAX_CONTENT + 1), "𝄞" * MAX_CONTENT, "a" * 1_000_000]
KNOWN = list(SESSIONS) + list(USERS) + ["c1", "c2", *AGENTS, "user", "assistant", "system"]

unicode = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
# A text argument: anything, something the package knows, an injection attempt, empty, huge, or NULL.
text_arg = st.one_of(unicode, st.sampled_from(KNOWN), st.sampled_from(INJECTIONS), st.just(""),
                     st.sampled_from(HUGE), st.none())
# For the client, NUL bytes too (PostgreSQL text cannot hold them).
client_text_arg = st.one_of(text_arg, st.builds(lambda a, b: a + "\x00" + b, st.sampled_from([*KNOWN, ""]),
                                                st.text(max_size=5)))
id_list = st.lists(text_arg, max_size=6)
limit_arg = st.one_of(st.none(), st.integers(-(2**40), 2**40),
                      st.sampled_from([0, -1, 1, INT4 - 1, INT4, -INT4, -INT4 - 1, 2**63 - 1]))


def clear_of_the_fixture_ages(t: timedelta) -> bool:
    """Away from the ages of the fixture's sessions (seconds, 2 h, 3 h), where the oracle's now() and the
    call's could judge differently; the exact values are sampled on their own."""
    return not any(abs(t - age) < timedelta(minutes=1) for age in (timedelta(0), timedelta(hours=2),
                                                                   timedelta(hours=3)))


# Intervals: NULL, negative, zero, the smallest positive, up to 20,000 years (past the calendar's start, 4713 BC).
interval_arg = st.one_of(st.none(),
                         st.timedeltas(min_value=-timedelta(days=3650),
                                       max_value=timedelta(days=7_300_000)).filter(clear_of_the_fixture_ages),
                         st.sampled_from([timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1),
                                          timedelta(hours=2), timedelta(hours=3), timedelta(days=365_000),
                                          timedelta(days=3_650_000)]))
# Intervals PostgreSQL compares by normalising months to 30 days and days to 24 hours, as text.
ODD_INTERVALS = {"1 mon -30 days": "22023", "1 mon -31 days": "22023", "1 day -24 hours": "22023",
                 # positive as compared, but its length depends on the month: refused since 2026-12-02
                 "-1 mon 31 days": "22023", "1 day -1 hour": "22023", "-0": "22023", "00:00:00.000001": 3}
ROLES = ("user", "assistant", "system", "tool")
role_arg = st.one_of(st.sampled_from(ROLES), text_arg)
# JSON without floats (PostgreSQL prints numbers its own way) and without NUL (jsonb cannot hold \u0000).
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), unicode)
small_object = st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                                       max_size=10),
                               st.one_of(json_leaf, st.lists(st.integers(), max_size=3)), max_size=3)
# Metadata: NULL, a small object, an object far over MAX_METADATA, or JSON that is no object.
metadata_arg = st.one_of(st.none(), small_object, st.just({"x": "y" * (MAX_METADATA + 100)}),
                         st.sampled_from([[], [1], "text", 0, True]), st.just("null"))
agent_arg = st.one_of(st.sampled_from(AGENTS), text_arg)
message_id_arg = st.one_of(st.none(), st.just(MESSAGE_ID), st.uuids(), st.just(uuid.UUID(int=0)))

HYPOTHESIS = settings(max_examples=80, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                             HealthCheck.data_too_large])
# append_message has the most outcomes (eight SQLSTATEs and two results): more examples.
HYPOTHESIS_APPEND = settings(HYPOTHESIS, max_examples=160)


@dataclass
class Expect:
    """What the contract says a call gets: one of the SQLSTATEs of its faulty arguments (the contract does not
    rank two faults of one call), or a result the check accepts."""

    sqlstates: frozenset[str] = frozenset()
    check: Callable[[Any], bool] = field(default=lambda _: True)
    writes: bool = False  # a correct result that changes the tables (the state is put back after it)


def error(*sqlstates: str) -> Expect:
    return Expect(sqlstates=frozenset(sqlstates))


def id_fault(value: str | None) -> list[str]:
    return ["22004"] if value is None else ["22023"] if value == "" else []


class Oracle:
    """The contract's answer for each function over the fixed state (STATE), all arguments as given."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state  # session id -> ("isActive", "lastActivity", "createdAt") as read after STATE

    def touch_session(self, session_id: str | None) -> Expect:
        live = session_id in LIVE
        faults = id_fault(session_id)
        return error(*faults) if faults else Expect(check=lambda r: r is live, writes=live)

    def touch_sessions(self, session_ids: list[str | None] | None) -> Expect:
        if session_ids is None:
            return error("22004")
        faults = [state for bad, state in ((None, "22004"), ("", "22023")) if bad in session_ids]
        if faults:
            return error(*faults)
        live = len(set(session_ids) & set(LIVE))
        return Expect(check=lambda r: r == live, writes=live > 0)

    def cleanup_old_sessions(self, timeout: timedelta | str | None, now: datetime) -> Expect:
        if isinstance(timeout, str):
            odd = ODD_INTERVALS[timeout]
            return error(odd) if isinstance(odd, str) else Expect(check=lambda r: r == odd, writes=True)
        if timeout is not None and timeout <= timedelta(0):
            return error("22023")
        try:
            limit = now - (timeout or timedelta(minutes=30))
        except OverflowError:  # before year 1: no session is that idle
            return Expect(check=lambda r: r == 0, writes=True)
        idle = sum(1 for active, last, _ in self.state.values() if active and last < limit)
        return Expect(check=lambda r: r == idle, writes=True)  # every run is recorded in cleanup_runs

    def purge_inactive_sessions(self, older_than: timedelta | None, now: datetime) -> Expect:
        if older_than is not None and older_than <= timedelta(0):
            return error("22023")
        if older_than is None:  # retention unset: nothing
            return Expect(check=lambda r: r == 0)
        try:
            limit = now - older_than
        except OverflowError:
            return Expect(check=lambda r: r == 0)
        old = sum(1 for active, last, created in self.state.values()
                  if not active and last < limit and created < limit.replace(tzinfo=None))
        return Expect(check=lambda r: r == old, writes=old > 0)

    def get_or_create_session(self, user_id: str | None, agent: str | None, chat_id: str | None,
                              title: str | None) -> Expect:
        faults = id_fault(user_id) + (["22004"] if agent is None else ["22023"] if agent not in AGENTS else [])
        too_long = chat_id is not None and len(chat_id.encode()) > 1024  # bytes: the unique index's entry
        faults += ["22023"] if chat_id == "" else ["22001"] if too_long else []
        if faults:
            return error(*faults)
        if user_id not in USERS:
            return error("P0002")
        reused = {("u1", "c1"): "live-1", ("u2", "c1"): "live-2"}.get((user_id, chat_id))

        def check(r: tuple[Any, ...]) -> bool:
            sid, uid, cid, aid, active, _, count = r
            if reused is not None:  # the chat's live session, whatever its agent
                return (sid, uid, cid, active) == (reused, user_id, chat_id, True)
            return sid not in SESSIONS and (uid, cid, aid, active, count) == (user_id, chat_id, agent, True, 0)

        return Expect(check=check, writes=True)

    def end_session(self, session_id: str | None) -> Expect:
        live = session_id in LIVE
        faults = id_fault(session_id)
        return error(*faults) if faults else Expect(check=lambda r: r is live, writes=live)

    @staticmethod
    def message_faults(role: Any, content: Any, agent_id: Any = None, metadata: Any = None) -> list[str]:
        """The faults check_message finds in one message (metadata "null" is JSON null, not SQL NULL)."""
        faults = ["22004"] if role is None else ["22023"] if role not in ROLES else []
        faults += ["22004"] if content is None else ["22001"] if len(content) > MAX_CONTENT else []
        if metadata is not None and not isinstance(metadata, dict):
            faults.append("22023")
        elif metadata is not None and len(json.dumps(metadata, ensure_ascii=False).encode()) > MAX_METADATA:
            faults.append("22001")
        if content == "" and metadata is None:
            faults.append("22023")
        if agent_id is not None and agent_id not in AGENTS:
            faults.append("22023")
        return faults

    def append_message(self, session_id: str | None, role: str | None, content: str | None,
                       message_id: uuid.UUID | None, agent_id: str | None = None, metadata: Any = None) -> Expect:
        faults = id_fault(session_id) + self.message_faults(role, content, agent_id, metadata)
        if faults:
            return error(*faults)
        if message_id == MESSAGE_ID:  # a retry of the stored message, or a conflicting reuse of its id
            same = (session_id, role, content, agent_id, metadata) == ("live-1", "user", "Oi", None, None)
            return Expect(check=lambda r: r[:4] == (MESSAGE_ID, "live-1", "user", "Oi")) if same else error("23505")
        if session_id not in SESSIONS:
            return error("P0002")
        if session_id not in LIVE:
            return error("55000")
        return Expect(check=lambda r: r[1:4] == (session_id, role, content) and tuple(r[5:]) == (agent_id, metadata)
                      and (message_id is None or r[0] == message_id), writes=True)

    def append_messages(self, session_id: str | None, messages: Any) -> Expect:
        faults = id_fault(session_id)
        if messages is None:
            faults.append("22004")
        elif not isinstance(messages, list) or len(messages) > MAX_BATCH:
            faults.append("22023")
        else:
            for m in messages:
                if not isinstance(m, dict) or set(m) - {"role", "content", "message_id", "agent_id", "metadata"}:
                    faults.append("22023")
                    continue
                if any(m.get(k) is not None and not isinstance(m.get(k), str)
                       for k in ("role", "content", "message_id", "agent_id")):
                    faults.append("22023")
                    continue
                if m.get("message_id") is not None and not UUID_TEXT.fullmatch(m["message_id"]):
                    faults.append("22023")
                faults += self.message_faults(m.get("role"), m.get("content"), m.get("agent_id"), m.get("metadata"))
        if faults:
            return error(*faults)
        # Stored in order: each element a retry (same as stored), a conflict (23505), or new (the session must
        # be known and live, checked at the first new one).
        seen: dict[uuid.UUID, tuple[Any, ...]] = {MESSAGE_ID: ("live-1", "user", "Oi", None, None)}
        new = 0
        for m in messages:
            key = (session_id, m["role"], m["content"], m.get("agent_id"), m.get("metadata"))
            mid = None if m.get("message_id") is None else uuid.UUID(m["message_id"])
            if mid is not None and mid in seen:
                if seen[mid] != key:
                    return error("23505")
                continue
            if new == 0 and session_id not in SESSIONS:
                return error("P0002")
            if new == 0 and session_id not in LIVE:
                return error("55000")
            new += 1
            if mid is not None:
                seen[mid] = key
        want = [(session_id, m["role"], m["content"], m.get("agent_id"), m.get("metadata")) for m in messages]
        return Expect(check=lambda rows: [(r[1], r[2], r[3], r[5], r[6]) for r in rows] == want, writes=new > 0)

    def message_change(self, session_id: str | None, extra_faults: list[str]) -> list[str]:
        """pop_message, clear_messages, trim_messages: argument faults, then unknown or not live."""
        faults = id_fault(session_id) + extra_faults
        return faults or (["P0002"] if session_id not in SESSIONS else ["55000"] if session_id not in LIVE else [])

    def pop_message(self, session_id: str | None) -> Expect:
        if faults := self.message_change(session_id, []):
            return error(*faults)
        had = session_id == "live-1"
        return Expect(check=lambda rows: [tuple(r[:4]) for r in rows] == ([(MESSAGE_ID, "live-1", "user", "Oi")]
                                                                          if had else []), writes=had)

    def clear_messages(self, session_id: str | None) -> Expect:
        if faults := self.message_change(session_id, []):
            return error(*faults)
        had = int(session_id == "live-1")
        return Expect(check=lambda r: r == had, writes=had > 0)

    def trim_messages(self, session_id: str | None, keep: int | None, agent_id: str | None) -> Expect:
        keep_faults = (["22004"] if keep is None else ["22003"] if not -INT4 <= keep < INT4
                       else ["22023"] if keep < 0 else [])
        if faults := self.message_change(session_id, keep_faults + (["22023"] if agent_id == "" else [])):
            return error(*faults)
        # live-1's one message has no agent: a trim of an agent's messages finds none of it.
        removed = int(session_id == "live-1" and agent_id is None and keep == 0)
        return Expect(check=lambda r: r == removed, writes=removed > 0)

    def find_chat_session(self, user_id: str | None, chat_id: str | None) -> Expect:
        if faults := id_fault(user_id) + id_fault(chat_id):
            return error(*faults)
        want = {("u1", "c1"): ["live-1"], ("u2", "c1"): ["live-2"]}.get((user_id, chat_id), [])
        return Expect(check=lambda rows: [r[0] for r in rows] == want and all(r[4] for r in rows))

    def get_context(self, session_id: str | None, max_messages: int | None, agent_id: str | None = None) -> Expect:
        faults = id_fault(session_id) + (["22023"] if agent_id == "" else [])
        if max_messages is not None and not -INT4 <= max_messages < INT4:
            faults.append("22003")  # beyond integer: PostgreSQL's own cast, before the function
        elif max_messages is not None and max_messages <= 0:
            faults.append("22023")
        if faults:
            return error(*faults)
        # live-1's one message has no agent: every agent's context has it.
        stored = [(MESSAGE_ID, "live-1", "user", "Oi")] if session_id == "live-1" else []
        return Expect(check=lambda rows: [tuple(r[:4]) for r in rows] == stored)

    def get_session_info(self, session_id: str | None) -> Expect:
        if faults := id_fault(session_id):
            return error(*faults)
        want = [] if session_id not in SESSIONS else [(session_id, SESSIONS[session_id], session_id in LIVE)]
        return Expect(check=lambda rows: [(r[0], r[1], r[4]) for r in rows] == want)

    def list_user_sessions(self, user_id: str | None, include_inactive: bool | None) -> Expect:
        faults = id_fault(user_id) + (["22004"] if include_inactive is None else [])
        if faults:
            return error(*faults)
        mine = [sid for sid, uid in SESSIONS.items() if uid == user_id and (include_inactive or sid in LIVE)]
        mine.sort(key=lambda sid: (-self.state[sid][1].timestamp(), sid))  # most recently active first
        return Expect(check=lambda rows: [r[0] for r in rows] == mine)


@dataclass
class Tally:
    """What one test tried, for the report."""

    calls: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    checksums: int = 0
    started: float = field(default_factory=time.monotonic)


class Harness:
    """Runs one call, judges it by the oracle, compares the checksums, puts the state back after a write."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.tally = Tally()
        self.reset()

    def reset(self) -> None:
        self.conn.execute(STATE)
        rows = self.conn.execute('SELECT id, "isActive", "lastActivity", "createdAt" '
                                 'FROM public."conversationSessions"').fetchall()
        self.oracle = Oracle({r[0]: (r[1], r[2], r[3]) for r in rows})
        self.base = self.checksum()

    def checksum(self) -> str:
        row = self.conn.execute(CHECKSUM).fetchone()
        assert row is not None
        self.tally.checksums += 1
        return str(row[0])

    def now(self) -> datetime:
        row = self.conn.execute("SELECT now()").fetchone()
        assert row is not None
        return row[0]  # type: ignore[no-any-return]

    def judge(self, name: str, expect: Expect, outcome: Any, sqlstate: str | None,
              raised: BaseException | None) -> None:
        try:
            self._judge(name, expect, outcome, sqlstate, raised)
        except AssertionError:
            self.reset()  # the next example (hypothesis shrinking) starts from the fixed state again
            raise

    def _judge(self, name: str, expect: Expect, outcome: Any, sqlstate: str | None,
               raised: BaseException | None) -> None:
        self.tally.calls += 1
        if expect.sqlstates:
            assert sqlstate in expect.sqlstates, f"{name}: expected SQLSTATE {sorted(expect.sqlstates)}, got " + (
                f"{sqlstate} ({raised})" if raised else f"the result {outcome!r}")
        else:
            assert raised is None, f"{name}: expected a result, got {sqlstate}: {raised}"
            assert expect.check(outcome), f"{name}: wrong result {outcome!r}"
        self.tally.outcomes[sqlstate or "ok"] += 1
        after = self.checksum()
        if expect.writes and raised is None:
            self.reset()
        else:
            assert after == self.base, f"{name}: the tables changed ({'rejected' if raised else 'no-op'} call)"

    def sql(self, name: str, expect: Expect, query: str, params: list[Any], many: bool = False) -> None:
        outcome: Any = None
        sqlstate: str | None = None
        raised: psycopg.Error | None = None
        try:
            cur = self.conn.execute(query, params)  # type: ignore[arg-type]
            rows = cur.fetchall()
            outcome = rows if many else (rows[0] if len(rows[0]) > 1 else rows[0][0])
        except psycopg.Error as exc:
            raised, sqlstate = exc, exc.sqlstate
        self.judge(name, expect, outcome, sqlstate, raised)

    def client(self, name: str, expect: Expect, call: Callable[[], Any]) -> None:
        outcome: Any = None
        sqlstate: str | None = None
        raised: SessionManagerError | None = None
        try:
            outcome = call()
        except SessionManagerError as exc:
            raised, sqlstate = exc, exc.sqlstate
        self.judge(name, expect, as_rows(outcome), sqlstate, raised)


def as_rows(value: Any) -> Any:
    """The client's dataclasses as the tuples the SQL oracle checks."""
    if isinstance(value, list):
        return [as_rows(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return tuple(getattr(value, f) for f in value.__dataclass_fields__)
    return value


TALLIES: dict[str, Tally] = {}


@pytest.fixture(scope="module")
def harness(db: str) -> Iterator[Harness]:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE session_manager.settings SET max_content_length = %s, max_metadata_bytes = %s, "
                     "max_batch_messages = %s", [MAX_CONTENT, MAX_METADATA, MAX_BATCH])
        h = Harness(conn)
        yield h
    record_tallies()


def record_tallies() -> None:
    sql = TALLIES.get("sql")
    client = TALLIES.get("client")
    for key, t in (("sql", sql), ("client", client)):
        if t is None:
            continue
        rejected = sum(n for k, n in t.outcomes.items() if k != "ok")
        record_proof(
            f"hostile_input_{key}", part=1,
            title=("Hostile input to every SQL function, called directly" if key == "sql"
                   else "Hostile input to every public client method (sync and async)"),
            workers=1, duration_s=round(time.monotonic() - t.started, 1),
            inputs_tried=f"{t.calls:,} calls generated by hypothesis (80 to 160 examples a test; Unicode, empty, huge, "
                         "injection attempts, NULLs, out-of-range numbers and intervals"
                         + (", NUL bytes)" if key == "client" else ")"),
            operations=f"{t.outcomes['ok']:,} correct results, {rejected:,} rejected: "
                       + ", ".join(f"{k} x{n}" for k, n in sorted(t.outcomes.items()) if k != "ok"),
            rows_checked=f"{t.checksums:,} checksums of the package's tables (before and after each call)",
            failures="0 wrong results, 0 errors outside the contract, 0 rejected calls that changed a table",
        )


@pytest.fixture()
def sql(harness: Harness) -> Iterator[Harness]:
    harness.tally = TALLIES.setdefault("sql", Tally())
    yield harness


# -- every SQL function, called directly ----------------------------------------------------------------


@HYPOTHESIS
@given(session_id=text_arg)
def test_touch_session_answers_hostile_ids_by_the_contract(sql: Harness, session_id: str | None) -> None:
    sql.sql("touch_session", sql.oracle.touch_session(session_id),
            "SELECT session_manager.touch_session(%s::text)", [session_id])


@HYPOTHESIS
@given(session_ids=st.one_of(st.none(), id_list))
def test_touch_sessions_answers_hostile_arrays_by_the_contract(sql: Harness, session_ids: list[str | None] | None
                                                              ) -> None:
    sql.sql("touch_sessions", sql.oracle.touch_sessions(session_ids),
            "SELECT session_manager.touch_sessions(%s::text[])", [session_ids])


@HYPOTHESIS
@given(timeout=st.one_of(interval_arg, st.sampled_from(sorted(ODD_INTERVALS))))
def test_cleanup_old_sessions_answers_hostile_intervals_by_the_contract(sql: Harness,
                                                                        timeout: timedelta | str | None) -> None:
    now = sql.now()
    expect = sql.oracle.cleanup_old_sessions(timeout, now)
    sql.sql("cleanup_old_sessions", expect, "SELECT session_manager.cleanup_old_sessions(%s::interval)", [timeout])


@HYPOTHESIS
@given(older_than=interval_arg)
def test_purge_inactive_sessions_answers_hostile_intervals_by_the_contract(sql: Harness,
                                                                           older_than: timedelta | None) -> None:
    expect = sql.oracle.purge_inactive_sessions(older_than, sql.now())
    sql.sql("purge_inactive_sessions", expect, "SELECT session_manager.purge_inactive_sessions(%s::interval)",
            [older_than])


@HYPOTHESIS
@given(user_id=st.one_of(st.sampled_from(USERS), text_arg), agent=agent_arg,
       chat_id=st.one_of(st.sampled_from(["c1", "c2", "c9"]), text_arg), title=text_arg)
def test_get_or_create_session_answers_hostile_arguments_by_the_contract(
        sql: Harness, user_id: str | None, agent: str | None, chat_id: str | None, title: str | None) -> None:
    sql.sql("get_or_create_session", sql.oracle.get_or_create_session(user_id, agent, chat_id, title),
            "SELECT * FROM session_manager.get_or_create_session(%s::text, %s::text, %s::text, %s::text)",
            [user_id, agent, chat_id, title])


@HYPOTHESIS
@given(session_id=text_arg)
def test_end_session_answers_hostile_ids_by_the_contract(sql: Harness, session_id: str | None) -> None:
    sql.sql("end_session", sql.oracle.end_session(session_id), "SELECT session_manager.end_session(%s::text)",
            [session_id])


@HYPOTHESIS_APPEND
@given(session_id=st.one_of(st.sampled_from(list(SESSIONS)), text_arg), role=role_arg,
       content=st.one_of(st.just("Oi"), text_arg), message_id=message_id_arg)
def test_append_message_answers_hostile_arguments_by_the_contract(
        sql: Harness, session_id: str | None, role: str | None, content: str | None,
        message_id: uuid.UUID | None) -> None:
    sql.sql("append_message", sql.oracle.append_message(session_id, role, content, message_id),
            "SELECT * FROM session_manager.append_message(%s::text, %s::text, %s::text, %s::uuid)",
            [session_id, role, content, message_id])


@HYPOTHESIS
@given(session_id=st.one_of(st.just("live-1"), text_arg), max_messages=limit_arg)
def test_get_context_answers_hostile_arguments_by_the_contract(sql: Harness, session_id: str | None,
                                                               max_messages: int | None) -> None:
    sql.sql("get_context", sql.oracle.get_context(session_id, max_messages),
            "SELECT * FROM session_manager.get_context(%s::text, %s::bigint::integer)", [session_id, max_messages],
            many=True)


# -- agent memory (issue 16) ---------------------------------------------------------------------------


def jsonb(value: Any) -> Any:
    return None if value is None else Jsonb(value)


@HYPOTHESIS_APPEND
@given(session_id=st.one_of(st.sampled_from(list(SESSIONS)), text_arg), role=role_arg,
       content=st.one_of(st.just("Oi"), st.just(""), text_arg), message_id=message_id_arg,
       agent_id=st.one_of(st.none(), agent_arg), metadata=metadata_arg)
def test_append_message_with_agent_and_metadata_answers_hostile_arguments_by_the_contract(
        sql: Harness, session_id: str | None, role: str | None, content: str | None, message_id: uuid.UUID | None,
        agent_id: str | None, metadata: Any) -> None:
    sql.sql("append_message", sql.oracle.append_message(session_id, role, content, message_id, agent_id, metadata),
            "SELECT * FROM session_manager.append_message(%s::text, %s::text, %s::text, %s::uuid, %s::text, %s::jsonb)",
            [session_id, role, content, message_id, agent_id, jsonb(metadata)])


# One element of append_messages: the keys the function knows (each possibly missing, JSON null or hostile),
# sometimes one it does not, or no object at all.
element = st.one_of(
    st.fixed_dictionaries({}, optional={
        "role": role_arg, "content": st.one_of(st.just("Oi"), st.just(""), text_arg),
        "message_id": st.one_of(st.none(), st.just(str(MESSAGE_ID)), st.uuids().map(str),
                                st.sampled_from(["junk", "", "123", "00000000-0000-4000-8000-00000000000g"])),
        "agent_id": st.one_of(st.none(), agent_arg), "metadata": metadata_arg,
        "name": st.just("unknown key")}),
    st.fixed_dictionaries({"role": st.just("user"), "content": st.just("Oi")},
                          optional={"message_id": st.just(str(MESSAGE_ID))}),
    st.sampled_from([1, "x", None, [1], True]))
messages_arg = st.one_of(st.none(), st.lists(element, max_size=MAX_BATCH + 2),
                         st.sampled_from([{"role": "user", "content": "x"}, "x", 1, True]))


@HYPOTHESIS_APPEND
@given(session_id=st.one_of(st.sampled_from(list(SESSIONS)), text_arg), messages=messages_arg)
def test_append_messages_answers_hostile_arrays_by_the_contract(sql: Harness, session_id: str | None,
                                                                messages: Any) -> None:
    sql.sql("append_messages", sql.oracle.append_messages(session_id, messages),
            "SELECT * FROM session_manager.append_messages(%s::text, %s::jsonb)", [session_id, jsonb(messages)],
            many=True)


@HYPOTHESIS
@given(session_id=st.one_of(st.sampled_from(list(SESSIONS)), text_arg), keep=limit_arg,
       agent_id=st.one_of(st.none(), agent_arg), max_messages=limit_arg)
def test_pop_clear_trim_and_agent_context_answer_hostile_arguments_by_the_contract(
        sql: Harness, session_id: str | None, keep: int | None, agent_id: str | None,
        max_messages: int | None) -> None:
    sql.sql("get_context", sql.oracle.get_context(session_id, max_messages, agent_id),
            "SELECT * FROM session_manager.get_context(%s::text, %s::bigint::integer, %s::text)",
            [session_id, max_messages, agent_id], many=True)
    sql.sql("trim_messages", sql.oracle.trim_messages(session_id, keep, agent_id),
            "SELECT session_manager.trim_messages(%s::text, %s::bigint::integer, %s::text)",
            [session_id, keep, agent_id])
    sql.sql("pop_message", sql.oracle.pop_message(session_id),
            "SELECT * FROM session_manager.pop_message(%s::text)", [session_id], many=True)
    sql.sql("clear_messages", sql.oracle.clear_messages(session_id),
            "SELECT session_manager.clear_messages(%s::text)", [session_id])


@HYPOTHESIS
@given(user_id=st.one_of(st.sampled_from(USERS), text_arg),
       chat_id=st.one_of(st.sampled_from(["c1", "c2", "c9"]), text_arg))
def test_find_chat_session_answers_hostile_arguments_by_the_contract(sql: Harness, user_id: str | None,
                                                                     chat_id: str | None) -> None:
    sql.sql("find_chat_session", sql.oracle.find_chat_session(user_id, chat_id),
            "SELECT * FROM session_manager.find_chat_session(%s::text, %s::text)", [user_id, chat_id], many=True)


@HYPOTHESIS
@given(session_id=text_arg)
def test_get_session_info_answers_hostile_ids_by_the_contract(sql: Harness, session_id: str | None) -> None:
    sql.sql("get_session_info", sql.oracle.get_session_info(session_id),
            "SELECT * FROM session_manager.get_session_info(%s::text)", [session_id], many=True)


@HYPOTHESIS
@given(user_id=st.one_of(st.sampled_from(USERS), text_arg), include_inactive=st.one_of(st.none(), st.booleans()))
def test_list_user_sessions_answers_hostile_arguments_by_the_contract(sql: Harness, user_id: str | None,
                                                                      include_inactive: bool | None) -> None:
    sql.sql("list_user_sessions", sql.oracle.list_user_sessions(user_id, include_inactive),
            "SELECT * FROM session_manager.list_user_sessions(%s::text, %s::boolean)", [user_id, include_inactive],
            many=True)


def test_version_and_the_monitoring_reads_change_nothing(sql: Harness) -> None:
    for name, query in [("version", "SELECT session_manager.version()"),
                        ("health_check", "SELECT * FROM session_manager.health_check()"),
                        ("cleanup_job_status", "SELECT * FROM session_manager.cleanup_job_status()"),
                        ("statement_stats", "SELECT count(*) FROM session_manager.statement_stats()"),
                        ("session_stats", "SELECT * FROM session_manager.session_stats")]:
        sql.sql(name, Expect(), query, [], many=True)


def test_psycopg_refuses_a_nul_byte_before_it_reaches_the_server(sql: Harness) -> None:
    before = sql.checksum()
    with pytest.raises(psycopg.DataError, match="NUL"):
        sql.conn.execute("SELECT session_manager.touch_session(%s::text)", ["live-1\x00"])
    assert sql.checksum() == before


@pytest.mark.parametrize("function", ["cleanup_old_sessions", "purge_inactive_sessions"])
def test_an_interval_beyond_the_calendar_is_a_positive_interval_that_matches_nothing(harness: Harness,
                                                                                     function: str) -> None:
    # The contract: "any positive interval". Ten thousand years (now() minus it is before the calendar's start,
    # 4713 BC): no session is that old. This raised 22008 until the fix this proof prompted (6cae908).
    harness.tally = Tally()  # outside the hypothesis figures
    harness.sql(function, Expect(check=lambda r: r == 0, writes=True),  # cleanup records its run
                f"SELECT session_manager.{function}(interval '10000 years')", [])


def test_an_idle_timeout_setting_that_would_break_every_function_is_refused(harness: Harness) -> None:
    # Accepted until 6cae908 bounded the interval settings; then every function failed with 22008.
    harness.tally = Tally()  # outside the hypothesis figures
    conn = harness.conn
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute("UPDATE session_manager.settings SET idle_timeout = interval '10000 years'")
        # Were it accepted, every call would fail with 22008 (touch_session, get_session_info, ...):
        conn.execute("SELECT session_manager.touch_session('live-1')")
    assert harness.checksum() == harness.base


# -- every public client method ------------------------------------------------------------------------


def nul(*values: Any) -> bool:
    return any(isinstance(v, str) and "\x00" in v for v in values) or any(
        isinstance(v, list) and any(isinstance(x, str) and "\x00" in x for x in v) for v in values)


def client_expect(expect: Expect, *args: Any) -> Expect:
    """The client adds one rule: a NUL byte in any text argument is InvalidArgumentError 22021, sent nowhere."""
    return error("22021") if nul(*args) else expect


@pytest.fixture(scope="module")
def manager(db: str, harness: Harness) -> Iterator[SessionManager]:
    with SessionManager(db, min_size=1, max_size=2, timeout=10.0) as m:
        yield m


@pytest.fixture()
def client(harness: Harness) -> Iterator[Harness]:
    harness.tally = TALLIES.setdefault("client", Tally())
    yield harness


@HYPOTHESIS
@given(session_id=client_text_arg, session_ids=st.one_of(st.lists(client_text_arg, max_size=5)))
def test_client_touch_methods_answer_hostile_ids_by_the_contract(
        client: Harness, manager: SessionManager, session_id: str | None, session_ids: list[str | None]) -> None:
    client.client("touch_session", client_expect(client.oracle.touch_session(session_id), session_id),
                  lambda: manager.touch_session(session_id))  # type: ignore[arg-type]
    client.client("touch_sessions", client_expect(client.oracle.touch_sessions(session_ids), session_ids),
                  lambda: manager.touch_sessions(session_ids))  # type: ignore[arg-type]


@HYPOTHESIS
@given(timeout=interval_arg)
def test_client_cleanup_answers_hostile_intervals_by_the_contract(client: Harness, manager: SessionManager,
                                                                  timeout: timedelta | None) -> None:
    client.client("cleanup_old_sessions", client.oracle.cleanup_old_sessions(timeout, client.now()),
                  lambda: manager.cleanup_old_sessions(timeout))


@HYPOTHESIS
@given(user_id=st.one_of(st.sampled_from(USERS), client_text_arg),
       agent=st.one_of(st.sampled_from(AGENTS), client_text_arg),
       chat_id=st.one_of(st.sampled_from(["c1", "c9"]), client_text_arg), title=client_text_arg)
def test_client_get_or_create_session_answers_hostile_arguments_by_the_contract(
        client: Harness, manager: SessionManager, user_id: str | None, agent: str | None, chat_id: str | None,
        title: str | None) -> None:
    expect = client_expect(client.oracle.get_or_create_session(user_id, agent, chat_id, title),
                           user_id, agent, chat_id, title)
    client.client("get_or_create_session", expect,
                  lambda: manager.get_or_create_session(user_id, agent, chat_id, title))  # type: ignore[arg-type]


@HYPOTHESIS_APPEND
@given(session_id=st.one_of(st.sampled_from(list(SESSIONS)), client_text_arg),
       role=st.one_of(st.sampled_from(["user", "assistant"]), client_text_arg),
       content=st.one_of(st.just("Oi"), client_text_arg), message_id=message_id_arg)
def test_client_append_and_end_answer_hostile_arguments_by_the_contract(
        client: Harness, manager: SessionManager, session_id: str | None, role: str | None, content: str | None,
        message_id: uuid.UUID | None) -> None:
    expect = client_expect(client.oracle.append_message(session_id, role, content, message_id),
                           session_id, role, content)
    client.client("append_message", expect,
                  lambda: manager.append_message(session_id, role, content, message_id))  # type: ignore[arg-type]
    client.client("end_session", client_expect(client.oracle.end_session(session_id), session_id),
                  lambda: manager.end_session(session_id))  # type: ignore[arg-type]


@HYPOTHESIS
@given(session_id=st.one_of(st.just("live-1"), client_text_arg), max_messages=limit_arg,
       user_id=st.one_of(st.sampled_from(USERS), client_text_arg), include_inactive=st.booleans())
def test_client_reads_answer_hostile_arguments_by_the_contract(
        client: Harness, manager: SessionManager, session_id: str | None, max_messages: int | None,
        user_id: str | None, include_inactive: bool) -> None:
    client.client("get_context", client_expect(client.oracle.get_context(session_id, max_messages), session_id),
                  lambda: manager.get_context(session_id, max_messages))  # type: ignore[arg-type]
    info = client.oracle.get_session_info(session_id)
    one = Expect(info.sqlstates, lambda r: info.check([] if r is None else [r]))
    client.client("get_session_info", client_expect(one, session_id),
                  lambda: manager.get_session_info(session_id))  # type: ignore[arg-type]
    client.client("list_user_sessions",
                  client_expect(client.oracle.list_user_sessions(user_id, include_inactive), user_id),
                  lambda: manager.list_user_sessions(user_id, include_inactive))  # type: ignore[arg-type]


@HYPOTHESIS
@given(session_id=st.one_of(st.sampled_from(list(SESSIONS)), client_text_arg),
       content=st.one_of(st.just("Oi"), client_text_arg), user_id=st.one_of(st.sampled_from(USERS), client_text_arg),
       timeout=interval_arg)
def test_async_client_answers_hostile_arguments_by_the_contract(
        client: Harness, db: str, session_id: str | None, content: str | None, user_id: str | None,
        timeout: timedelta | None) -> None:
    o = client  # the oracle is re-read for each call: a call that wrote has put the state back
    plan: list[tuple[str, Callable[[], Expect], Callable[[AsyncSessionManager], Any]]] = [
        ("touch_session", lambda: client_expect(o.oracle.touch_session(session_id), session_id),
         lambda m: m.touch_session(session_id)),  # type: ignore[arg-type]
        ("append_message", lambda: client_expect(o.oracle.append_message(session_id, "user", content, None),
                                                 session_id, content),
         lambda m: m.append_message(session_id, "user", content)),  # type: ignore[arg-type]
        ("list_user_sessions", lambda: client_expect(o.oracle.list_user_sessions(user_id, True), user_id),
         lambda m: m.list_user_sessions(user_id, True)),  # type: ignore[arg-type]
        ("cleanup_old_sessions", lambda: o.oracle.cleanup_old_sessions(timeout, o.now()),
         lambda m: m.cleanup_old_sessions(timeout)),
    ]

    async def calls() -> None:
        async with AsyncSessionManager(db, min_size=1, max_size=1, timeout=10.0) as m:
            for name, expect, call in plan:
                expected = expect()
                try:
                    value = await call(m)
                except SessionManagerError as exc:
                    client.judge(name, expected, None, exc.sqlstate, exc)
                else:
                    client.judge(name, expected, as_rows(value), None, None)

    asyncio.run(calls())


@settings(HYPOTHESIS, max_examples=40)  # seven calls an example
@given(session_id=st.one_of(st.sampled_from(list(SESSIONS)), client_text_arg),
       agent_id=st.one_of(st.none(), st.sampled_from(AGENTS), client_text_arg),
       user_id=st.one_of(st.sampled_from(USERS), client_text_arg),
       chat_id=st.one_of(st.sampled_from(["c1", "c9"]), client_text_arg), keep=st.integers(-2, 2))
def test_client_agent_memory_methods_answer_hostile_arguments_by_the_contract(
        client: Harness, manager: SessionManager, session_id: str | None, agent_id: str | None,
        user_id: str | None, chat_id: str | None, keep: int) -> None:
    o = client
    client.client("get_context", client_expect(o.oracle.get_context(session_id, 5, agent_id), session_id, agent_id),
                  lambda: manager.get_context(session_id, 5, agent_id=agent_id))  # type: ignore[arg-type]
    client.client("append_message", client_expect(
        o.oracle.append_message(session_id, "assistant", "", None, agent_id, {"k": agent_id}),
        session_id, agent_id),
                  lambda: manager.append_message(session_id, "assistant", "",  # type: ignore[arg-type]
                                                 agent_id=agent_id, metadata={"k": agent_id}))
    client.client("append_messages", client_expect(
        o.oracle.append_messages(session_id, [{"role": "user", "content": "a", "agent_id": agent_id}]),
        session_id, agent_id),
                  lambda: manager.append_messages(session_id,  # type: ignore[arg-type]
                                                  [{"role": "user", "content": "a", "agent_id": agent_id}]))
    client.client("trim_messages", client_expect(o.oracle.trim_messages(session_id, keep, agent_id),
                                                 session_id, agent_id),
                  lambda: manager.trim_messages(session_id, keep, agent_id))  # type: ignore[arg-type]
    pop = o.oracle.pop_message(session_id)
    one = Expect(pop.sqlstates, lambda r: pop.check([] if r is None else [r]), pop.writes)
    client.client("pop_message", client_expect(one, session_id),
                  lambda: manager.pop_message(session_id))  # type: ignore[arg-type]
    client.client("clear_messages", client_expect(o.oracle.clear_messages(session_id), session_id),
                  lambda: manager.clear_messages(session_id))  # type: ignore[arg-type]
    found = o.oracle.find_chat_session(user_id, chat_id)
    first = Expect(found.sqlstates, lambda r: found.check([] if r is None else [r]))
    client.client("find_chat_session", client_expect(first, user_id, chat_id),
                  lambda: manager.find_chat_session(user_id, chat_id))  # type: ignore[arg-type]
