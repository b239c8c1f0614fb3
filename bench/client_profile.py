#!/usr/bin/env python3
"""Where the client's own time goes: one thread, one connection, N touches through psycopg alone (conn.execute,
a new cursor each call, as client_load.py's `psycopg` mode does), through psycopg with one cursor reused (what
SessionManager does since 0.5), through SessionManager (pool of 1) as it is, and through SessionManager with
psycopg_pool's check_connection on every checkout (the 0.4 client), in alternating rounds: wall and CPU
microseconds per call of this process. Then cProfile of psycopg alone's loop and the clients' (µs per call,
cumulative and own, inflated by the profiler alike).

    .venv/bin/python bench/client_profile.py DSN [--calls N] [--rounds R] [--live N]
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

import session_manager.pool
from session_manager import SessionManager


def timed(loop: Callable[[], None], calls: int) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    loop()
    return (time.perf_counter() - w0) / calls * 1e6, (time.process_time() - c0) / calls * 1e6


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("dsn")
    p.add_argument("--calls", type=int, default=4000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--live", type=int, default=100_000)
    a = p.parse_args()
    rnd = random.Random(1)
    ids = [str(rnd.randint(1, a.live)) for _ in range(a.calls)]
    ours = session_manager.pool.check_connection
    session_manager.pool.check_connection = ConnectionPool.check_connection  # type: ignore[assignment]
    old = SessionManager(a.dsn, min_size=1, max_size=1)
    old.touch_session("1")  # the pool is made now, with the 0.4 check
    session_manager.pool.check_connection = ours
    new = SessionManager(a.dsn, min_size=1, max_size=1)
    new.touch_session("1")
    conn = psycopg.connect(a.dsn, autocommit=True, prepare_threshold=0)

    def raw() -> None:
        for sid in ids:
            conn.execute("SELECT session_manager.touch_session(%s)", (sid,)).fetchall()

    cur = conn.cursor()

    def raw_cursor() -> None:
        for sid in ids:
            cur.execute("SELECT session_manager.touch_session(%s)", (sid,)).fetchall()

    def client(sm: SessionManager) -> Callable[[], None]:
        def loop() -> None:
            for sid in ids:
                sm.touch_session(sid)
        return loop

    sides: dict[str, Callable[[], None]] = {"psycopg": raw, "psycopg_cursor": raw_cursor, "client": client(new),
                                            "client_0.4_check": client(old)}
    out: dict[str, Any] = {"calls": a.calls, "rounds": []}
    for i in range(a.rounds):
        names = list(sides) if i % 2 == 0 else list(sides)[::-1]
        out["rounds"].append({n: timed(sides[n], a.calls) for n in names})
    for n in sides:
        out[f"{n}_wall_us"] = statistics.median(r[n][0] for r in out["rounds"])
        out[f"{n}_cpu_us"] = statistics.median(r[n][1] for r in out["rounds"])
    for n in ("psycopg_cursor", "client", "client_0.4_check"):
        out[f"{n}_wall_ratio"] = statistics.median(r["psycopg"][0] / r[n][0] for r in out["rounds"])
    profiles = {}
    for n in ("psycopg", "client", "client_0.4_check"):
        prof = cProfile.Profile()
        prof.enable()
        sides[n]()
        prof.disable()
        rows = []
        for (file, _line, name), (_cc, nc, tt, ct, _callers) in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
            rows.append((f"{'/'.join(file.rsplit('/', 2)[-2:])}:{name}", ct / a.calls * 1e6, tt / a.calls * 1e6,
                         nc / a.calls))
        rows.sort(key=lambda r: -r[1])
        profiles[n] = [[f, round(c, 1), round(t, 1), round(k, 2)] for f, c, t, k in rows[:30]]
    out["profiles"] = profiles
    old.close()
    new.close()
    conn.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
