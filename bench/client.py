"""The Python client (bench/client_load.py) against psycopg alone and pgbench."""
from __future__ import annotations

import statistics
from typing import Any

from harness import CLIENTS, PGB, Bench, say


def python_client(b: Bench) -> None:
    secs = 1 if b.quick else 6
    rounds = 1 if b.quick else 2
    out: dict[str, list[dict[str, Any]]] = {"pgbench": [], "threads": [], "async": [], "async-4": [],
                                            "batch": [], "psycopg": [], "psycopg-async": []}
    say(f"python client: {rounds} rounds of pgbench / threads / async / batch, {secs} s each, pools of {CLIENTS}")
    for _ in range(rounds):
        out["pgbench"].append(b.pgbench(PGB / "touch_session.sql", seconds=secs, defines={"live": b.live}))
        out["threads"].append(b.client("threads", secs, workers=8, pool=CLIENTS, live=b.live))
        out["async"].append(b.client("async", secs, workers=32, pool=CLIENTS, live=b.live))
        out["async-4"].append(b.client("async", secs, workers=CLIENTS, pool=CLIENTS, live=b.live))
        out["batch"].append(b.client("batch", secs, workers=CLIENTS, pool=CLIENTS, live=b.live,
                                        batch=100))
        out["psycopg"].append(b.client("psycopg", secs, workers=CLIENTS, live=b.live))
        out["psycopg-async"].append(b.client("psycopg-async", secs, workers=CLIENTS, live=b.live))
        rates = {k: v[-1].get("touches_per_s", v[-1].get("tps", 0.0)) for k, v in out.items()}
        say("  " + ", ".join(f"{k} {x:.0f} touches/s" for k, x in rates.items()))
    b.results["python_client"] = out


def client_pairs(b: Bench) -> None:
    """Like with like: the client and psycopg alone with the same workers and connections (4 threads over a pool
    of 4 against 4 threads with a connection each; the same with asyncio tasks), in alternating pairs, each side
    its own process. The ratio of their touches per second is the client's own cost on this machine."""
    secs = 1 if b.quick else 3
    pairs = 2 if b.quick else 5
    w = CLIENTS
    out: dict[str, Any] = {"seconds": secs, "workers": w, "connections": w, "sync": [], "async": []}
    say(f"client pairs: {pairs} alternating pairs of {secs} s, {w} workers and {w} connections on each side")
    for i in range(pairs):
        for kind, ours, theirs in (("sync", "threads", "psycopg"), ("async", "async", "psycopg-async")):
            sides = [(ours, {"pool": w}), (theirs, {})]
            if i % 2:
                sides.reverse()
            r = {mode: b.client(mode, secs, workers=w, live=b.live, **opts) for mode, opts in sides}
            pair = {"client": r[ours]["touches_per_s"], "psycopg": r[theirs]["touches_per_s"],
                    "client_p99_ms": r[ours]["p99_ms"], "psycopg_p99_ms": r[theirs]["p99_ms"]}
            pair["ratio"] = pair["client"] / pair["psycopg"]
            out[kind].append(pair)
            say(f"  {kind} pair {i + 1}: client {pair['client']:.0f}/s, psycopg {pair['psycopg']:.0f}/s, "
                f"ratio {pair['ratio']:.3f}")
    for kind in ("sync", "async"):
        out[f"{kind}_median_ratio"] = statistics.median(p["ratio"] for p in out[kind])
    b.results["client_pairs"] = out
