"""Growth: 10,000,000 sessions of history against 100,000."""
from __future__ import annotations

import statistics
import time
from typing import Any

from harness import GROWTH, PGB, SESSIONS, Bench, say


def growth(b: Bench) -> None:
    """Touch throughput and cleanup time with 100,000 vs 10,000,000 inactive sessions of history."""
    big = b.args.growth_rows
    small_db, big_db = GROWTH + "_small", GROWTH + "_big"
    say(f"growth: two fresh copies of the loaded database; {big:,} inactive sessions added to one")
    b.clone(small_db)
    b.clone(big_db)
    t0 = time.monotonic()
    step = min(big, 2_500_000)
    with b.loading(big_db) as cur:
        for s in range(1, big + 1, step):
            cur.execute(b.history_insert("g", min(step, big - s + 1), start=s))
            say(f"  {s + step - 1:,} rows ({time.monotonic() - t0:.0f} s)")
    b.sql(f"VACUUM (ANALYZE) {SESSIONS}", db=big_db)
    load_s = time.monotonic() - t0
    dbs = {"small": small_db, "big": big_db}
    sizes = {k: b.one(f"SELECT pg_total_relation_size('{SESSIONS}')", db=db) for k, db in dbs.items()}
    say(f"  loaded in {load_s:.0f} s; sessions table {sizes['big'] / 2**30:.2f} GiB vs "
        f"{sizes['small'] / 2**20:.0f} MiB")
    small_r: list[float] = []
    big_r: list[float] = []
    for i in range(3 if b.quick else 9):
        order = [(small_db, small_r), (big_db, big_r)]
        for db, acc in order if i % 2 == 0 else order[::-1]:
            acc.append(b.pgbench(PGB / "touch_session.sql", seconds=b.phase, defines={"live": b.live},
                                    db=db)["tps"])
        say(f"  pair {i + 1}: {small_r[-1]:.0f} tps with {b.history:,} of history, {big_r[-1]:.0f} with {big:,}")
    ratios = [b / s for s, b in zip(small_r, big_r, strict=True)]
    cleanup: dict[str, Any] = {}
    for k, db in dbs.items():
        b.add_idle("gr", 100_000, db=db)
        plan = b.sql(f"""EXPLAIN SELECT c.id FROM {SESSIONS} c WHERE c."isActive"
                            AND c."lastActivity" < now() - interval '1 day' LIMIT 1000
                            FOR NO KEY UPDATE OF c SKIP LOCKED""", db=db)
        t = time.monotonic()
        r = b.run_cleanup_job(db)
        cleanup[k] = {"seconds": time.monotonic() - t, **r, "plan": [p[0] for p in plan]}
        # The every-minute run when there is nothing to clean, and the one-scan design's candidate
        # query (no LIMIT: the planner can use the index of active sessions).
        t = time.monotonic()
        b.run_cleanup_job(db)
        cleanup[k]["empty_run_seconds"] = time.monotonic() - t
        t = time.monotonic()
        b.run_cleanup_job(db, procedure="bench_variants.cleanup_one_scan")
        cleanup[k]["empty_run_one_scan_seconds"] = time.monotonic() - t
        cleanup[k]["one_scan_plan"] = [p[0] for p in b.sql(
            f"""EXPLAIN SELECT c.id FROM {SESSIONS} c WHERE c."isActive"
                AND c."lastActivity" < now() - interval '1 day'""", db=db)]
        say(f"  cleanup of 100,000 idle sessions with the {k} history: {cleanup[k]['seconds']:.1f} s; a run with "
            f"nothing to clean {cleanup[k]['empty_run_seconds'] * 1000:.0f} ms (one-scan design "
            f"{cleanup[k]['empty_run_one_scan_seconds'] * 1000:.0f} ms)")
    b.close_all()
    for db in dbs.values():
        b.sql(f'DROP DATABASE "{db}"', db="postgres")
    b.results["growth"] = {"history": {"small": b.history, "big": big}, "load_seconds": load_s,
                              "table_bytes": sizes, "tps_small": small_r, "tps_big": big_r, "ratios": ratios,
                              "median_ratio": statistics.median(ratios), "cleanup": cleanup}
