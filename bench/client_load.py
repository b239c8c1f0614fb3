#!/usr/bin/env python3
"""The Python client under load, in a process of its own (so its peak memory is its own).

    .venv/bin/python bench/client_load.py DSN MODE --workers N --pool N --seconds S --live N [--batch N]

MODE: `threads` (N threads calling SessionManager.touch_session), `async` (N asyncio tasks calling
AsyncSessionManager.touch_session), `batch` (N threads calling touch_sessions with --batch ids).
`paced` is the chat-like pattern of the throttling figures: N asyncio tasks, each a chat sending a
burst of --burst messages --gap seconds apart (+-50 %) to one session, then moving to a fresh one;
it reports, per session, the true last message time and the session's "lastActivity" afterwards.
`psycopg` and `psycopg-async`: the same touches through psycopg alone (a connection per worker, no pool),
the floor under the client's own cost.
Prints one JSON object: touches, seconds, touches_per_s, p50/p99/max latency (ms), peak RSS (KiB).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import psycopg

from session_manager import AsyncSessionManager, SessionManager


def summary(latencies: list[float], touches: int, seconds: float) -> dict[str, float]:
    lat = sorted(latencies)
    pick = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: 0.0)
    return {"touches": touches, "seconds": seconds, "touches_per_s": touches / seconds, "calls": len(lat),
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": (lat[-1] * 1000) if lat else 0.0,
            "mean_ms": statistics.fmean(lat) * 1000 if lat else 0.0}


def on_threads(workers: int, seconds: float,
               body: Callable[[random.Random, list[float]], None]) -> tuple[list[float], float]:
    """Runs body(rnd, latencies) in a loop on `workers` threads for `seconds`; returns the latencies."""
    stop = threading.Event()
    per_thread: list[list[float]] = [[] for _ in range(workers)]

    def work(lat: list[float]) -> None:
        rnd = random.Random()
        while not stop.is_set():
            body(rnd, lat)

    threads = [threading.Thread(target=work, args=(lat,)) for lat in per_thread]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return [x for part in per_thread for x in part], time.perf_counter() - started


def run_psycopg(args: argparse.Namespace) -> dict[str, float]:
    """The floor under the client: psycopg alone, one connection per thread, no pool, no wrapper."""
    local = threading.local()
    opened: list[psycopg.Connection[Any]] = []

    def body(rnd: random.Random, lat: list[float]) -> None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(args.dsn, autocommit=True, prepare_threshold=0)
            opened.append(local.conn)
        sid = str(rnd.randint(1, args.live))
        t0 = time.perf_counter()
        local.conn.execute("SELECT session_manager.touch_session(%s)", (sid,)).fetchall()
        lat.append(time.perf_counter() - t0)

    lat, elapsed = on_threads(args.workers, args.seconds, body)
    for conn in opened:
        conn.close()
    return summary(lat, len(lat), elapsed)


async def run_psycopg_async(args: argparse.Namespace) -> dict[str, float]:
    """psycopg's AsyncConnection alone: one connection per task, no pool, no wrapper."""
    lat: list[float] = []
    deadline = time.perf_counter() + args.seconds

    async def work() -> None:
        rnd = random.Random()
        async with await psycopg.AsyncConnection.connect(args.dsn, autocommit=True, prepare_threshold=0) as conn:
            while time.perf_counter() < deadline:
                sid = str(rnd.randint(1, args.live))
                t0 = time.perf_counter()
                await (await conn.execute("SELECT session_manager.touch_session(%s)", (sid,))).fetchall()
                lat.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(work() for _ in range(args.workers)))
    return summary(lat, len(lat), time.perf_counter() - started)


def run_threads(args: argparse.Namespace) -> dict[str, float]:
    batch = args.batch if args.mode == "batch" else 1
    with SessionManager(args.dsn, min_size=args.pool, max_size=args.pool) as sm:
        sm.touch_session("1")

        def body(rnd: random.Random, lat: list[float]) -> None:
            if batch == 1:
                sid = str(rnd.randint(1, args.live))
                t0 = time.perf_counter()
                sm.touch_session(sid)
            else:
                n = rnd.randint(1, args.live - batch + 1)
                ids = [str(i) for i in range(n, n + batch)]
                t0 = time.perf_counter()
                sm.touch_sessions(ids)
            lat.append(time.perf_counter() - t0)

        lat, elapsed = on_threads(args.workers, args.seconds, body)
    return summary(lat, len(lat) * batch, elapsed)


async def run_async(args: argparse.Namespace) -> dict[str, float]:
    lat: list[float] = []
    async with AsyncSessionManager(args.dsn, min_size=args.pool, max_size=args.pool) as sm:
        await sm.touch_session("1")
        deadline = time.perf_counter() + args.seconds

        async def work() -> None:
            rnd = random.Random()
            while time.perf_counter() < deadline:
                sid = str(rnd.randint(1, args.live))
                t0 = time.perf_counter()
                await sm.touch_session(sid)
                lat.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(work() for _ in range(args.workers)))
        elapsed = time.perf_counter() - started
    return summary(lat, len(lat), elapsed)


async def run_paced(args: argparse.Namespace) -> dict[str, object]:
    """Chats in bursts; afterwards, how far each session's lastActivity lags its true last message."""
    lat: list[float] = []
    last_sent: dict[str, float] = {}
    first = args.first_id
    counter = iter(range(first, first + 10_000_000))
    async with AsyncSessionManager(args.dsn, min_size=args.pool, max_size=args.pool) as sm:
        deadline = time.perf_counter() + args.seconds

        async def chat() -> None:
            rnd = random.Random()
            await asyncio.sleep(rnd.uniform(0, args.gap * args.burst))  # chats do not start in step
            while time.perf_counter() < deadline:
                sid = str(next(counter))
                for _ in range(args.burst):
                    if time.perf_counter() >= deadline:
                        return
                    t0 = time.perf_counter()
                    await sm.touch_session(sid)
                    lat.append(time.perf_counter() - t0)
                    last_sent[sid] = time.time()
                    await asyncio.sleep(args.gap * rnd.uniform(0.5, 1.5))

        started = time.perf_counter()
        await asyncio.gather(*(chat() for _ in range(args.workers)))
        elapsed = time.perf_counter() - started
        async with sm.connection() as conn:
            cur = await conn.execute('SELECT id, "lastActivity" FROM public."conversationSessions" WHERE id = ANY(%s)',
                                     [list(last_sent)])
            recorded = {sid: ts for sid, ts in await cur.fetchall()}
    lags = [last_sent[sid] - recorded[sid].timestamp() for sid in last_sent if sid in recorded]
    out: dict[str, object] = dict(summary(lat, len(lat), elapsed))
    out.update({"sessions": len(last_sent), "lag_max_s": max(lags, default=0.0),
                "lag_mean_s": statistics.fmean(lags) if lags else 0.0,
                "ended_at": datetime.now(timezone.utc).isoformat()})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dsn")
    p.add_argument("mode", choices=["threads", "async", "batch", "paced", "psycopg", "psycopg-async"])
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--pool", type=int, default=4)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--live", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--burst", type=int, default=8)
    p.add_argument("--gap", type=float, default=0.5)
    p.add_argument("--first-id", type=int, default=1)
    args = p.parse_args()
    if args.mode in ("threads", "batch"):
        result: dict[str, object] = dict(run_threads(args))
    elif args.mode == "psycopg":
        result = dict(run_psycopg(args))
    elif args.mode == "psycopg-async":
        result = dict(asyncio.run(run_psycopg_async(args)))
    elif args.mode == "async":
        result = dict(asyncio.run(run_async(args)))
    else:
        result = asyncio.run(run_paced(args))
    result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


if __name__ == "__main__":
    main()
