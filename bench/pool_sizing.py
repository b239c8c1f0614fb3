#!/usr/bin/env python3
"""How big should the client's pool be? Throughput and latency of chat turns against max_size.

    .venv/bin/python bench/pool_sizing.py                  # a throwaway cluster, deployed by sqitch
    .venv/bin/python bench/pool_sizing.py --dsn URL        # a database with the package deployed

A chat turn is what a bot does per incoming message: get_or_create_session (with chat_id), append the
user's message, get_context, append the answer: four calls. `--threads` client threads run turns on
random chats for `--seconds` per pool size. Then a burst: `--burst` asyncio tasks touch at once through
a pool of the default size, which gives the queueing figures behind max_waiting. And the cost of one
connection, behind min_size. Prints a Markdown report (also written to bench/results/pool_sizing.md).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from pgcluster import EmbeddedCluster  # noqa: E402
from session_manager import AsyncSessionManager, PoolSettings, SessionManager  # noqa: E402

USERS, CHATS = 50, 400


def prepare(dsn: str) -> list[tuple[str, str]]:
    """Users and chats to talk in; returns (user_id, chat_id) pairs."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        users = [f"bench-user-{i}" for i in range(USERS)]
        with conn.cursor() as cur:
            cur.executemany("""INSERT INTO public."user" (id, email) VALUES (%s, %s) ON CONFLICT DO NOTHING""",
                            [(u, u + "@example.com") for u in users])
    return [(random.choice(users), f"chat-{i}") for i in range(CHATS)]


def run_turns(dsn: str, chats: list[tuple[str, str]], max_size: int, threads: int, seconds: float) -> dict[str, float]:
    stop = threading.Event()
    turns: list[tuple[float, float]] = []  # (finished at, seconds)
    lock = threading.Lock()

    def worker(seed: int, m: SessionManager) -> None:
        rng = random.Random(seed)
        mine: list[tuple[float, float]] = []
        while not stop.is_set():
            user, chat = rng.choice(chats)
            started = time.perf_counter()
            s = m.get_or_create_session(user, "geral", chat_id=chat)
            m.append_message(s.session_id, "user", "quanto gastei este mês?")
            m.get_context(s.session_id, max_messages=20)
            m.append_message(s.session_id, "assistant", "R$ 1.234,56 até hoje.")
            finished = time.perf_counter()
            mine.append((finished, finished - started))
        with lock:
            turns.extend(mine)

    with SessionManager(dsn, min_size=max_size, max_size=max_size, name=f"bench-{max_size}") as m:
        m.version()
        workers = [threading.Thread(target=worker, args=(n, m)) for n in range(threads)]
        for w in workers:
            w.start()
        time.sleep(1.0)  # warm up: prepared statements, caches
        window = (time.perf_counter(), time.perf_counter() + seconds)
        time.sleep(seconds)
        stop.set()
        for w in workers:
            w.join()
        waits = m.pool_stats()
    counted = sorted(t for end, t in turns if window[0] <= end < window[1])
    return {"max_size": max_size, "turns_per_s": len(counted) / seconds, "calls_per_s": 4 * len(counted) / seconds,
            "p50_ms": 1000 * counted[len(counted) // 2], "p99_ms": 1000 * counted[int(len(counted) * 0.99)],
            "wait_ms": waits.get("requests_wait_ms", 0) / max(1, waits.get("requests_num", 1))}


def run_burst(dsn: str, chats: list[tuple[str, str]], tasks: int) -> dict[str, float]:
    async def main() -> dict[str, float]:
        async with AsyncSessionManager(dsn, name="bench-burst") as m:
            ids = [(await m.get_or_create_session(u, "geral", chat_id=c)).session_id for u, c in chats[:50]]
            started = time.perf_counter()

            async def one(i: int) -> float:
                await m.touch_session(ids[i % len(ids)])
                return time.perf_counter() - started

            finished = await asyncio.gather(*(one(i) for i in range(tasks)))
            stats = m.pool_stats()
        return {"tasks": tasks, "all_done_s": max(finished), "median_done_s": statistics.median(finished),
                "max_waiting_seen": stats.get("requests_waiting", 0), "errors": stats.get("requests_errors", 0)}

    return asyncio.run(main())


def connect_ms(dsn: str, n: int = 20) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        psycopg.connect(dsn).close()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def report(args: argparse.Namespace, rows: list[dict[str, float]], burst: dict[str, float], connect: float) -> str:
    lines = [
        "# Pool sizing (bench/pool_sizing.py)",
        "",
        f"Command: `.venv/bin/python bench/pool_sizing.py --sizes {args.sizes} --threads {args.threads}"
        f" --seconds {args.seconds} --repeat {args.repeat}"
        f" --burst {args.burst}`; {os.cpu_count()} CPUs, client and server on the same machine,"
        " the throwaway cluster's settings (fsync off).",
        "",
        f"A chat turn = get_or_create_session + append_message + get_context(20) + append_message;"
        f" {args.threads} client threads, {CHATS} chats.",
        "",
        f"Each size ran {args.repeat} times, interleaved; the row with the median throughput is shown.",
        "",
        "| max_size | turns/s | calls/s | turn p50 ms | turn p99 ms | mean wait for a connection ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['max_size']} | {r['turns_per_s']:.0f} | {r['calls_per_s']:.0f} | {r['p50_ms']:.1f}"
                     f" | {r['p99_ms']:.1f} | {r['wait_ms']:.1f} |")
    defaults = PoolSettings()
    lines += [
        "",
        f"Burst: {burst['tasks']:.0f} asyncio tasks touch at once through the default pool (max_size"
        f" {defaults.max_size}): all done after {burst['all_done_s'] * 1000:.0f} ms (median"
        f" {burst['median_done_s'] * 1000:.0f} ms), {burst['errors']:.0f} errors.",
        "",
        f"One new connection (psycopg.connect, local TCP, trust auth): median {connect:.1f} ms.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="a database with the package deployed (default: a throwaway cluster)")
    parser.add_argument("--sizes", default="1,2,3,4,6,8,16")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--to", help="deploy the plan only up to this change or tag (e.g. @v0.2.0)")
    args = parser.parse_args()

    cluster = None
    dsn = args.dsn
    if dsn is None:
        cluster = EmbeddedCluster().__enter__()
        dbname = "bench_pool_" + uuid.uuid4().hex[:6]
        cluster.psql("postgres", f'CREATE DATABASE "{dbname}"')
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster.dsn(dbname),
                        "-f", str(ROOT / "scripts" / "app_schema.sql")], check=True, capture_output=True)
        to = ["--to", args.to] if args.to else []
        subprocess.run(["sqitch", "deploy", "--set", "schedule=off", *to, cluster.sqitch_target(dbname)],
                       cwd=ROOT, check=True, capture_output=True)
        dsn = cluster.dsn(dbname)
    try:
        chats = prepare(dsn)
        sizes = [int(s) for s in args.sizes.split(",")]
        runs: dict[int, list[dict[str, float]]] = {size: [] for size in sizes}
        for _ in range(args.repeat):  # interleaved, so a burst of load elsewhere spreads over all sizes
            for size in sizes:
                runs[size].append(run_turns(dsn, chats, size, args.threads, args.seconds))
                print(f"max_size {size}: {runs[size][-1]['turns_per_s']:.0f} turns/s", file=sys.stderr)
        rows = [sorted(runs[size], key=lambda r: r["turns_per_s"])[len(runs[size]) // 2] for size in sizes]
        burst = run_burst(dsn, chats, args.burst)
        text = report(args, rows, burst, connect_ms(dsn))
    finally:
        if cluster is not None:
            cluster.stop()
    out = ROOT / "bench" / "results" / "pool_sizing.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
