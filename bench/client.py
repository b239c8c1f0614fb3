"""The Python client (bench/client_load.py) against psycopg alone and pgbench."""
from __future__ import annotations

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
