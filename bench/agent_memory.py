"""Agent memory: get_context with and without the agent filter, and agent-squad's storage round trip against
agent-squad's own SqlChatStorage (libSQL, a local SQLite file) and LangChain's PostgresChatMessageHistory
(langchain-postgres, same cluster), at 10, 1,000 and 100,000 messages in one session.

    .venv/bin/pip install libsql-client langchain-postgres   # the peers (not needed by the package)
    .venv/bin/python bench/agent_memory.py [--sizes 10,1000,100000] [--calls 30]

Starts a throwaway cluster (scripts/pgcluster.py), deploys with sqitch, seeds each session in one INSERT
(the peers' tables likewise), then times calls one after another from one process (medians, ms). Writes
bench/results/agent_memory.json and agent_memory.md.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from agent_squad.storage.sql_chat_storage import SqlChatStorage  # noqa: E402
from agent_squad.types import ConversationMessage  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage, message_to_dict  # noqa: E402
from langchain_postgres import PostgresChatMessageHistory  # noqa: E402

from pgcluster import EmbeddedCluster  # noqa: E402
from session_manager import AsyncSessionManager  # noqa: E402
from session_manager.integrations.agent_squad import SessionManagerChatStorage  # noqa: E402

AGENTS = ("financeiro", "max", "geral")
FETCH = 20  # fetch_chat's max_history_size, get_context's N: a prompt's worth of history

# get_context's two queries (deploy/functions/get_context.sql), and the agent filter written with IS NULL (what
# the index messages_session_agent_id replaced), for EXPLAIN (ANALYZE, BUFFERS): pages read do not depend on
# the machine's load, times do.
CONTEXT_SQL = """SELECT last.* FROM (SELECT m.* FROM session_manager.messages m WHERE m.session_id = %(s)s
                 ORDER BY m.id DESC LIMIT 20) AS last ORDER BY last.id"""
AGENT_SQL = """SELECT last.* FROM (
  (SELECT m.* FROM session_manager.messages m WHERE m.session_id = %(s)s AND COALESCE(m.agent_id, '') = 'max'
   ORDER BY m.id DESC LIMIT 20)
  UNION ALL
  (SELECT m.* FROM session_manager.messages m WHERE m.session_id = %(s)s AND COALESCE(m.agent_id, '') = ''
   ORDER BY m.id DESC LIMIT 20)
  ORDER BY id DESC LIMIT 20) AS last ORDER BY last.id"""
IS_NULL_SQL = AGENT_SQL.replace("COALESCE(m.agent_id, '') = 'max'", "m.agent_id = 'max'").replace(
    "COALESCE(m.agent_id, '') = ''", "m.agent_id IS NULL")


def buffers(conn: psycopg.Connection[Any], sql: str, sid: str) -> tuple[int, float]:
    """Shared buffers the plan's top node touched, and its execution time in ms."""
    plan = [str(r[0]) for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, {"s": sid})]
    hit = next(line for line in plan if "Buffers:" in line)
    pages = sum(int(x) for x in re.findall(r"(?:hit|read)=(\d+)", hit))
    ms = float(re.findall(r"Execution Time: ([0-9.]+)", "\n".join(plan))[0])
    return pages, ms


def deploy(cluster: EmbeddedCluster) -> str:
    dbname = "bench_agent_" + uuid.uuid4().hex[:6]
    cluster.psql("postgres", f'CREATE DATABASE "{dbname}"')
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster.dsn(dbname),
                    "-f", str(ROOT / "scripts" / "app_schema.sql")], check=True, capture_output=True)
    subprocess.run(["sqitch", "deploy", "--set", "schedule=off", cluster.sqitch_target(dbname)],
                   cwd=ROOT, check=True, capture_output=True)
    return cluster.dsn(dbname)


def seed_ours(conn: psycopg.Connection[Any], n: int) -> tuple[str, str, str]:
    """A user, a chat and its session holding n messages: user and assistant in turn, each pair of one of the
    three agents in turn, as agent-squad's storage writes them (every message with its agent, content blocks in
    metadata). So the no-agent half of get_context's agent filter finds nothing: the worst case for a plan that
    cannot walk it along the index."""
    user, chat, sid = f"bench-{n}", f"chat-{n}", str(uuid.uuid4())
    conn.execute('INSERT INTO public."user" (id, email) VALUES (%s, %s)', (user, user + "@example.com"))
    conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "chatId")
                    VALUES (%s, %s, 'geral', %s)""", (sid, user, chat))
    conn.execute("""
        INSERT INTO session_manager.messages (message_id, session_id, role, content, agent_id, metadata)
        SELECT gen_random_uuid(), %(sid)s, CASE WHEN i %% 2 = 0 THEN 'user' ELSE 'assistant' END, 'message ' || i,
               (%(agents)s::text[])[1 + (i / 2) %% 3],
               jsonb_build_object('content', jsonb_build_array(jsonb_build_object('text', 'message ' || i)))
        FROM generate_series(0, %(n)s - 1) AS i""", {"sid": sid, "n": n, "agents": list(AGENTS)})
    conn.execute("INSERT INTO session_manager.session_message_counts VALUES (%s, %s)", (sid, n))
    conn.execute("VACUUM ANALYZE session_manager.messages")
    return user, chat, sid


def seed_sqlite(path: str, user: str, chat: str, n: int) -> None:
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(user, chat, AGENTS[(i // 2) % 3], i, "user" if i % 2 == 0 else "assistant",
                         json.dumps([{"text": f"message {i}"}]), 1_700_000_000_000 + i) for i in range(n)])


def seed_langchain(conn: psycopg.Connection[Any], n: int) -> str:
    sid = str(uuid.uuid4())
    rows = [(sid, json.dumps(message_to_dict(HumanMessage(f"message {i}") if i % 2 == 0
                                             else AIMessage(f"message {i}")))) for i in range(n)]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO lc_history (session_id, message) VALUES (%s, %s)", rows)
    conn.execute("VACUUM ANALYZE lc_history")
    return sid


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


async def timed(calls: int, fn: Callable[[int], Awaitable[Any]]) -> float:
    await fn(-1)  # warm: plans, caches
    samples = []
    for k in range(calls):
        started = time.perf_counter()
        await fn(k)
        samples.append(time.perf_counter() - started)
    return median_ms(samples)


def sync_timed(calls: int, fn: Callable[[int], Any]) -> float:
    fn(-1)
    samples = []
    for k in range(calls):
        started = time.perf_counter()
        fn(k)
        samples.append(time.perf_counter() - started)
    return median_ms(samples)


def msg(k: int) -> ConversationMessage:
    """Alternating roles: no save is skipped as a consecutive message of the same role."""
    return ConversationMessage(role="user" if k % 2 else "assistant", content=[{"text": f"new {k}"}])


async def one_size(n: int, calls: int, conn: psycopg.Connection[Any], ours: SessionManagerChatStorage,
                   theirs: SqlChatStorage, sqlite_path: str) -> dict[str, Any]:
    user, chat, sid = seed_ours(conn, n)
    seed_sqlite(sqlite_path, user, chat, n)
    lc = PostgresChatMessageHistory("lc_history", seed_langchain(conn, n), sync_connection=conn)
    few = max(3, calls // 10) if n >= 100_000 else calls  # a whole-history read at 100,000 takes seconds
    row: dict[str, Any] = {"messages": n, "calls": calls, "calls_whole_history": few}
    for key, sql in (("context", CONTEXT_SQL), ("context_agent", AGENT_SQL), ("context_agent_is_null", IS_NULL_SQL)):
        row[f"{key}_buffers"], row[f"{key}_explain_ms"] = buffers(conn, sql, sid)
    prepared = "SELECT * FROM session_manager.get_context(%s, %s, %s)"
    row["get_context_ms"] = sync_timed(calls, lambda k: conn.execute(prepared, (sid, FETCH, None),
                                                                      prepare=True).fetchall())
    row["get_context_agent_ms"] = sync_timed(calls, lambda k: conn.execute(prepared, (sid, FETCH, "max"),
                                                                            prepare=True).fetchall())
    row["ours_fetch_chat_ms"] = await timed(calls, lambda k: ours.fetch_chat(user, chat, "max", FETCH))
    row["theirs_fetch_chat_ms"] = await timed(few, lambda k: theirs.fetch_chat(user, chat, "max", FETCH))
    row["langchain_messages_ms"] = sync_timed(few, lambda k: lc.messages)
    row["ours_save_ms"] = await timed(few, lambda k: ours.save_chat_message(user, chat, "max", msg(k)))
    row["theirs_save_ms"] = await timed(few, lambda k: theirs.save_chat_message(user, chat, "max", msg(k)))
    row["langchain_add_ms"] = sync_timed(calls, lambda k: lc.add_message(HumanMessage(f"new {k}")))
    row["ours_round_trip_ms"] = round(row["ours_save_ms"] + row["ours_fetch_chat_ms"], 3)
    row["theirs_round_trip_ms"] = round(row["theirs_save_ms"] + row["theirs_fetch_chat_ms"], 3)
    row["langchain_round_trip_ms"] = round(row["langchain_add_ms"] + row["langchain_messages_ms"], 3)
    print(json.dumps(row), file=sys.stderr)
    return row


async def measure(dsn: str, sizes: list[int], calls: int, tmp: str) -> list[dict[str, Any]]:
    results = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        PostgresChatMessageHistory.create_tables(conn, "lc_history")
        sqlite_path = str(Path(tmp) / "agent_squad.db")
        theirs = SqlChatStorage(f"file:{sqlite_path}")
        await theirs.initialize()
        async with AsyncSessionManager(dsn, min_size=1, max_size=2, timeout=30.0) as manager:
            ours = SessionManagerChatStorage(manager)
            for n in sizes:
                results.append(await one_size(n, calls, conn, ours, theirs, sqlite_path))
        await theirs.close()
    return results


def report(rows: list[dict[str, Any]], settings: str) -> str:
    lines = [
        "# Agent memory (bench/agent_memory.py)", "",
        f"One process, calls one after another, medians in ms; {settings}. `get_context` is called through psycopg "
        f"(prepared), N = {FETCH}; fetch_chat's max_history_size = {FETCH}; save_chat_message without "
        "max_history_size (nothing trimmed: the history is the size of the column).", "",
        "| messages in the session | " + " | ".join(str(r["messages"]) for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    labels = [
        ("context_buffers", "get_context(20)'s query: buffers"),
        ("context_agent_buffers", "get_context(20, agent_id)'s query: buffers"),
        ("context_agent_is_null_buffers", "the same with agent_id IS NULL: buffers"),
        ("context_agent_explain_ms", "get_context(20, agent_id)'s query: EXPLAIN ANALYZE ms"),
        ("context_agent_is_null_explain_ms", "the same with agent_id IS NULL: EXPLAIN ANALYZE ms"),
        ("get_context_ms", "get_context(20)"),
        ("get_context_agent_ms", "get_context(20, agent_id)"),
        ("ours_fetch_chat_ms", "ours: fetch_chat(20)"),
        ("theirs_fetch_chat_ms", "agent-squad SqlChatStorage: fetch_chat(20)"),
        ("langchain_messages_ms", "langchain-postgres: messages"),
        ("ours_save_ms", "ours: save_chat_message"),
        ("theirs_save_ms", "agent-squad SqlChatStorage: save_chat_message"),
        ("langchain_add_ms", "langchain-postgres: add_message"),
        ("ours_round_trip_ms", "ours: save + fetch_chat(20)"),
        ("theirs_round_trip_ms", "SqlChatStorage: save + fetch_chat(20)"),
        ("langchain_round_trip_ms", "langchain-postgres: add_message + messages"),
    ]
    for key, label in labels:
        lines.append(f"| {label} | " + " | ".join(f"{r[key]:,}" for r in rows) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,100000")
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with EmbeddedCluster() as cluster, tempfile.TemporaryDirectory() as tmp:
        dsn = deploy(cluster)
        rows = asyncio.run(measure(dsn, sizes, args.calls, tmp))
    settings = ("the embedded cluster (fsync, synchronous_commit, full_page_writes off), the 2-core machine "
                "shared with other work")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "agent_memory.json").write_text(json.dumps({"rows": rows, "settings": settings}, indent=2) + "\n")
    text = report(rows, settings)
    (out / "agent_memory.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
