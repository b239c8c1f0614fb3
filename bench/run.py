#!/usr/bin/env python3
"""pg-session-manager benchmarks: the package side by side with the raw-UPDATE limit and the peers' designs.

    bash bench/run.sh [--quick]          # what to run (sets up .venv, then this file)
    .venv/bin/python bench/run.py [--quick] [--keep] [--only SECTION,...]

Starts a throwaway cluster (scripts/pgcluster.py, its settings are in the report), creates the
application's tables, deploys the package with sqitch (without scheduling: no cron job may run in the
middle of a measurement), loads the data, runs every section with pgbench (bench/pgbench/*.sql) and the
Python client (bench/client_load.py), and writes bench/results/results.json; bench/report.py turns that
into bench/results/report.md and the PNG figures.

One file per thing measured, over the shared harness (harness.py): touch_limit.py (touch_session
against the raw UPDATE, table shapes, batches, throttling), touch_instructions.py (valgrind's
instruction count of one touch, piece by piece), peers.py (the peers' designs, WAL),
client.py (the Python client), context.py (context and chat turns), cleanup.py (cleanup under load,
batch sizes), growth.py (10M sessions of history).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import cleanup
import client
import context
import growth
import peers
import touch_instructions
import touch_limit

from harness import BENCH, MAIN, RESULTS, Bench, EmbeddedCluster, say

# The sections in the order they run, each a function of the file that measures its subject.
SECTIONS: dict[str, Callable[[Bench], None]] = {
    "touch_pairs": touch_limit.touch_pairs, "touch_ceiling": touch_limit.touch_ceiling,
    "touch_instructions": touch_instructions.touch_instructions,
    "costs_section": peers.costs_section, "shapes": touch_limit.shapes,
    "batches": touch_limit.batches, "python_client": client.python_client,
    "client_pairs": client.client_pairs, "throttling": touch_limit.throttling,
    "context": context.context, "chat_turns": context.chat_turns, "wal_breakdown": peers.wal_breakdown,
    "cleanup": cleanup.cleanup, "batch_sizes": cleanup.batch_sizes, "cleanup_pacing": cleanup.cleanup_pacing,
    "growth": growth.growth,
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller data, shorter phases, no 1M cleanup, no 10M history")
    p.add_argument("--keep", action="store_true", help="leave the cluster running at the end")
    p.add_argument("--only", default="", help="comma-separated sections to run (default: all)")
    p.add_argument("--out", default=str(RESULTS), help="results directory")
    p.add_argument("--merge", action="store_true",
                   help="add the sections run now to the results.json already in --out (its meta stays)")
    p.add_argument("--growth-rows", type=int, default=10_000_000, help="history rows of the growth case")
    args = p.parse_args()
    only = [s for s in args.only.split(",") if s] or list(SECTIONS)
    if args.quick and "growth" in only and not args.only:
        only.remove("growth")
    started = time.monotonic()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    cluster = EmbeddedCluster()
    # Entered as a context manager it is also stopped on SIGTERM, SIGHUP or exit; --keep leaves it running.
    if args.keep:
        cluster.start()
    else:
        cluster.__enter__()
    bench = Bench(cluster, args)
    try:
        say(f"cluster on 127.0.0.1:{cluster.port} ({cluster.dir}); {'quick' if args.quick else 'full'} run")
        bench.meta()
        previous = out_dir / "results.json"
        if args.merge and previous.exists():
            bench.results = json.loads(previous.read_text())
            bench.results.setdefault("merged_runs", []).append({"sections": only, "meta": bench.run_meta})
        bench.setup()
        for name in only:
            if name == "setup":
                continue
            t = time.monotonic()
            load_before = os.getloadavg()[0]
            SECTIONS[name](bench)
            bench.results.setdefault("section_seconds", {})[name] = round(time.monotonic() - t, 1)
            # The machine may be shared: the 1-minute load average around each section, for the reader.
            bench.results.setdefault("load_average", {})[name] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
            (out_dir / "results.json").write_text(json.dumps(bench.results, indent=1, default=str))
        bench.run_meta["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        bench.run_meta["total_seconds"] = round(time.monotonic() - started, 1)
        (out_dir / "results.json").write_text(json.dumps(bench.results, indent=1, default=str))
    finally:
        bench.close_all()
        if args.keep:
            say(f"cluster left running: psql {cluster.dsn(MAIN)}")
        else:
            cluster.stop()
    say(f"done in {time.monotonic() - started:.0f} s; writing the report")
    subprocess.run([sys.executable, str(BENCH / "report.py"), str(out_dir / "results.json")], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
