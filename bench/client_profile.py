#!/usr/bin/env python3
"""Where the client's own time goes: one thread, one connection, N touches through psycopg alone and through
SessionManager (pool of 1), alternating rounds, then cProfile of the client's loop (cumulative µs per call
of the client's own functions and of psycopg's).

    .venv/bin/python bench/client_profile.py DSN [--calls N] [--rounds R] [--live N]
Prints one JSON object: per round the wall µs per call of each side, their medians, and the profile's top
entries as [function, µs per call (cumulative), µs per call (own)].
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import time
from typing import Any

import psycopg

from session_manager import SessionManager


def psycopg_loop(conn: psycopg.Connection[Any], ids: list[str]) -> float:
    t0 = time.perf_counter()
    for sid in ids:
        conn.execute("SELECT session_manager.touch_session(%s)", (sid,)).fetchall()
    return (time.perf_counter() - t0) / len(ids) * 1e6


def client_loop(sm: SessionManager, ids: list[str]) -> float:
    t0 = time.perf_counter()
    for sid in ids:
        sm.touch_session(sid)
    return (time.perf_counter() - t0) / len(ids) * 1e6


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("dsn")
    p.add_argument("--calls", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--live", type=int, default=100_000)
    a = p.parse_args()
    rnd = random.Random(1)
    ids = [str(rnd.randint(1, a.live)) for _ in range(a.calls)]
    out: dict[str, Any] = {"calls": a.calls, "rounds": []}
    with psycopg.connect(a.dsn, autocommit=True, prepare_threshold=0) as conn, \
            SessionManager(a.dsn, min_size=1, max_size=1) as sm:
        psycopg_loop(conn, ids[:200])
        client_loop(sm, ids[:200])
        for _ in range(a.rounds):
            raw_us, ours_us = psycopg_loop(conn, ids), client_loop(sm, ids)
            out["rounds"].append({"psycopg_us": raw_us, "client_us": ours_us})
        out["psycopg_us_median"] = statistics.median(r["psycopg_us"] for r in out["rounds"])
        out["client_us_median"] = statistics.median(r["client_us"] for r in out["rounds"])
        out["ratio_median"] = statistics.median(r["psycopg_us"] / r["client_us"] for r in out["rounds"])
        prof = cProfile.Profile()
        prof.enable()
        client_loop(sm, ids)
        prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (file, _line, name), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((f"{file.rsplit('/', 2)[-2:]!s}:{name}".replace("'", ""), ct / a.calls * 1e6, tt / a.calls * 1e6,
                     nc / a.calls))
    rows.sort(key=lambda r: -r[1])
    out["profile_top"] = [[n, round(c, 1), round(t, 1), round(k, 2)] for n, c, t, k in rows[:40]]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
