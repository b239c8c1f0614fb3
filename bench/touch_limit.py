"""The touch limit: touch_session against the raw UPDATE (alternating pairs, the variants of
bench/sql/variants.sql side by side), the table's shape, touch_sessions batches, touch_resolution."""
from __future__ import annotations

import statistics
import time
from typing import Any

from harness import CLIENTS, PGB, SESSIONS, SETTINGS, TIME_SCALE, Bench, say


def touch_pairs(b: Bench) -> None:
    """Raw UPDATE vs touch_session, alternating, then the scratch variants round by round."""
    d = {"live": b.live}
    raw, pkg = [], []
    say(f"touch: {b.pairs} alternating pairs raw UPDATE / touch_session, {b.phase} s each, {CLIENTS} clients")
    for i in range(b.pairs):
        order = [("raw", raw, PGB / "raw_update.sql"), ("pkg", pkg, PGB / "touch_session.sql")]
        for _name, acc, script in order if i % 2 == 0 else order[::-1]:
            acc.append(b.pgbench(script, seconds=b.phase, defines=d))
        say(f"  pair {i + 1}: raw {raw[-1]['tps']:.0f} tps, touch_session {pkg[-1]['tps']:.0f} tps "
            f"({pkg[-1]['tps'] / raw[-1]['tps']:.2f})")
    ratios = [p["tps"] / r["tps"] for r, p in zip(raw, pkg, strict=True)]
    say(f"touch: median {statistics.median(ratios):.3f}; then both at once (2 clients each), 5 x {b.phase} s")
    at_once = [b.simultaneous(PGB / "raw_update.sql", PGB / "touch_session.sql", b.phase, d)
               for _ in range(5)]
    say("  at once: " + ", ".join(f"{x:.2f}" for x in at_once))
    b.results["touch_pairs"] = {"raw": raw, "touch_session": pkg, "ratios": ratios,
                                   "median_ratio": statistics.median(ratios), "clients": CLIENTS,
                                   "seconds": b.phase, "simultaneous": at_once,
                                   "simultaneous_median": statistics.median(at_once)}

    variants = ["invoker_bare", "definer_set_read", "definer_set_const", "definer_qual_read",
                "definer_qual_const", "definer_qual_onestmt", "sql_definer_qual"]
    rounds = 1 if b.quick else 3
    vres: dict[str, list[float]] = {v: [] for v in [*variants, "package", "package_track_top"]}
    vphase = min(b.phase, 3)
    say(f"touch variants: {rounds} rounds, each variant at once with a raw UPDATE run, {vphase} s each")
    raw_script = PGB / "raw_update.sql"
    for r in range(rounds):
        names = variants if r % 2 == 0 else variants[::-1]
        for v in names:
            vres[v].append(b.simultaneous(raw_script, b.variant_script(v), vphase, d))
        vres["package"].append(b.simultaneous(raw_script, PGB / "touch_session.sql", vphase, d))
        # The same function with pg_stat_statements tracking top-level statements only and no
        # function statistics: what the embedded cluster's monitoring settings cost a touch.
        b.sql("ALTER SYSTEM SET pg_stat_statements.track = 'top'")
        b.sql("ALTER SYSTEM SET track_functions = 'none'")
        b.sql("SELECT pg_reload_conf()")
        time.sleep(0.3)
        vres["package_track_top"].append(b.simultaneous(raw_script, PGB / "touch_session.sql", vphase, d))
        # Back to the cluster's own values (a RESET would drop them from postgresql.auto.conf, where
        # pgcluster.py wrote them, and leave every later section at the defaults top / none).
        b.sql(f"ALTER SYSTEM SET pg_stat_statements.track = {SETTINGS['pg_stat_statements.track']}")
        b.sql(f"ALTER SYSTEM SET track_functions = {SETTINGS['track_functions']}")
        b.sql("SELECT pg_reload_conf()")
        time.sleep(0.3)
        say(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in vres.items()))
    b.results["touch_variants"] = {k: {"ratios": v, "median_ratio": statistics.median(v)}
                                      for k, v in vres.items()}


def shapes(b: Bench) -> None:
    """(b) the same touch on copies of the sessions table: fillfactor and an index on "lastActivity"."""
    n = b.cost_ops
    # (name, fillfactor the rows are laid out with, fillfactor afterwards, extra index on "lastActivity")
    shapes = [("package indexes, fillfactor 85 (deployed)", 85, 85, False),
              ("package indexes + index on lastActivity, ff 85", 85, 85, True),
              ("package indexes, fillfactor 100", 100, 100, False),
              ("package indexes, fillfactor 70", 70, 70, False),
              ("package indexes, rows laid out at ff 70, then ff 85", 70, 85, False)]
    out: dict[str, Any] = {}
    say(f"shapes: {n} touches on copies of the sessions table")
    for name, ff, ff_after, extra in shapes:
        b.sql("DROP SCHEMA IF EXISTS bench_shape CASCADE; CREATE SCHEMA bench_shape")
        b.sql(f"""CREATE TABLE bench_shape.sessions (LIKE {SESSIONS} INCLUDING DEFAULTS INCLUDING INDEXES)
                     WITH (fillfactor = {ff})""")
        if extra:
            b.sql('CREATE INDEX ON bench_shape.sessions ("lastActivity")')
        b.sql(f"INSERT INTO bench_shape.sessions SELECT * FROM {SESSIONS} WHERE id ~ %s", [r"^\d+$"])
        if ff_after != ff:
            # Pages keep the room they were filled with, while pruning starts at the new fillfactor's.
            b.sql(f"ALTER TABLE bench_shape.sessions SET (fillfactor = {ff_after})")
        b.sql("VACUUM ANALYZE bench_shape.sessions")
        with b.costs("bench_shape.sessions", n) as c:
            c.update(b.pgbench(PGB / "shape_touch.sql", transactions=n, defines={"live": b.live}))
            c["ops"] = c["transactions"]
        c["fillfactor"], c["fillfactor_after"], c["lastactivity_index"] = ff, ff_after, extra
        out[name] = c
        say(f"  {name}: {c['tps']:.0f} tps, {c['wal_per_op']:.0f} B WAL/touch, HOT {c['hot_ratio']:.2f}, "
            f"heap +{c['heap_growth'] // 1024} KiB, indexes +{c['index_growth'] // 1024} KiB")
    b.sql("DROP SCHEMA IF EXISTS bench_shape CASCADE")
    b.results["shapes"] = out


def batches(b: Bench) -> None:
    out: dict[str, Any] = {}
    say("touch_sessions: batches of 10, 100, 1000 random ids")
    single = b.pgbench(PGB / "touch_session.sql", seconds=b.phase, defines={"live": b.live})
    out["1 (touch_session)"] = single
    for n in (10, 100, 1000):
        r = b.pgbench(PGB / "touch_sessions.sql", seconds=b.phase, per_tx=n,
                      defines={"live": b.live, "batch": n})
        out[str(n)] = r
        say(f"  batch {n}: {r['tps']:.0f} calls/s = {r['ops_per_s']:.0f} touches/s, p99 {r['p99_ms']:.1f} ms")
    b.results["batches"] = out


def throttling(b: Bench) -> None:
    """touch_resolution on a chat-like pattern: full speed (throughput) and paced (WAL, lag)."""
    out: dict[str, Any] = {"time_scale": TIME_SCALE, "saturated": {}, "paced": {}, "chats": 300}
    n = b.cost_ops // 2
    say("throttling: bursts of 8 touches per session at full speed, touch_resolution 0 and 10 s")
    for res in ("0", "10 seconds"):
        b.set_setting("touch_resolution", res)
        with b.costs(SESSIONS, 0) as c:
            c.update(b.pgbench(PGB / "touch_burst.sql", transactions=n,
                                  defines={"live": b.live, "burst": 8, "i": 0, "n": 1}))
            c["ops"] = c["transactions"]
        out["saturated"][res] = c
        say(f"  resolution {res}: {c['tps']:.0f} messages/s, {c['wal_per_op']:.0f} B WAL/message, "
            f"{c['updates'] / c['ops']:.2f} writes/message")
    # Paced chats: 100 chats, 10 messages each ~10 s apart (5-15 s), resolutions up to 30 s; time
    # compressed TIME_SCALE times so that each value takes seconds.
    secs = 3 if b.quick else 15
    gap_real, burst, chats = 10.0, 10, 300
    first = 1_000_001
    for real in (0, 30) if b.quick else (0, 2, 5, 10, 30):
        b.sql("UPDATE session_manager.settings SET touch_resolution = make_interval(secs => %s)",
                 [real / TIME_SCALE])
        with b.costs(SESSIONS, 0) as c:
            r = b.client("paced", secs, workers=chats, pool=CLIENTS, burst=burst, gap=gap_real / TIME_SCALE,
                            first_id=first)
            c.update(r)
            c["ops"] = r["touches"]
        first += 2000
        c["resolution_real_s"] = real
        c["lag_max_real_s"] = c["lag_max_s"] * TIME_SCALE
        c["writes_per_message"] = c["updates"] / max(1, c["touches"])
        out["paced"][str(real)] = c
        say(f"  resolution {real} s (real time): {c['writes_per_message']:.2f} writes/message, "
            f"{c['wal_per_op']:.0f} B WAL/message, worst lag {c['lag_max_real_s']:.1f} s")
    b.set_setting("touch_resolution", "0")
    b.results["throttling"] = out


def touch_ceiling(b: Bench) -> None:
    """touch_session at the function ceiling: the deployed function against the raw UPDATE on the PK-only copy
    and against the same UPDATE on the sessions table itself (rounds of three, the order rotating), both at
    once, and against the variant "DEFINER, no SET, everything qualified, settings as constants"
    (bench_variants.definer_qual_const) at once, to find what the deployed function does that it does not."""
    d = {"live": b.live}
    pairs = 3 if b.quick else 7
    raw_s, pkg_s, const_s = PGB / "raw_update.sql", PGB / "touch_session.sql", b.variant_script("definer_qual_const")
    same_s = PGB / "raw_update_sessions.sql"
    raw, pkg, same = [], [], []
    say(f"touch ceiling: {pairs} rounds raw UPDATE / touch_session / raw UPDATE of the sessions table, "
        f"{b.phase} s each, {CLIENTS} clients")
    for i in range(pairs):
        order = [(raw, raw_s), (pkg, pkg_s), (same, same_s)]
        order = order[i % 3:] + order[:i % 3]
        for acc, script in order if i % 2 == 0 else order[::-1]:
            acc.append(b.pgbench(script, seconds=b.phase, defines=d)["tps"])
        say(f"  round {i + 1}: raw {raw[-1]:.0f} tps, touch_session {pkg[-1]:.0f} tps ({pkg[-1] / raw[-1]:.3f}), "
            f"raw on the sessions table {same[-1]:.0f} tps ({same[-1] / raw[-1]:.3f}; touch_session / it "
            f"{pkg[-1] / same[-1]:.3f})")
    ratios = [p / r for r, p in zip(raw, pkg, strict=True)]
    same_ratios = [p / r for r, p in zip(same, pkg, strict=True)]
    table_ratios = [s / r for r, s in zip(raw, same, strict=True)]
    at_once = [b.simultaneous(raw_s, pkg_s, b.phase, d) for _ in range(pairs)]
    same_at_once = [b.simultaneous(same_s, pkg_s, b.phase, d) for _ in range(pairs)]
    vs_const = [b.simultaneous(const_s, pkg_s, b.phase, d) for _ in range(pairs)]
    say(f"  median {statistics.median(ratios):.3f} (of the sessions table's raw UPDATE "
        f"{statistics.median(same_ratios):.3f}; that UPDATE / the copy's {statistics.median(table_ratios):.3f}); "
        f"at once {statistics.median(at_once):.3f} ({', '.join(f'{x:.2f}' for x in at_once)}), against the "
        f"sessions table's {statistics.median(same_at_once):.3f} ({', '.join(f'{x:.2f}' for x in same_at_once)}); "
        f"against the constant variant {statistics.median(vs_const):.3f} ({', '.join(f'{x:.2f}' for x in vs_const)})")
    b.results["touch_ceiling"] = {"raw_tps": raw, "touch_session_tps": pkg, "ratios": ratios,
                                  "median_ratio": statistics.median(ratios), "simultaneous": at_once,
                                  "simultaneous_median": statistics.median(at_once),
                                  "sessions_raw_tps": same, "sessions_ratios": same_ratios,
                                  "sessions_median_ratio": statistics.median(same_ratios),
                                  "table_ratios": table_ratios, "table_median_ratio": statistics.median(table_ratios),
                                  "sessions_simultaneous": same_at_once,
                                  "sessions_simultaneous_median": statistics.median(same_at_once),
                                  "vs_const_variant": vs_const,
                                  "vs_const_variant_median": statistics.median(vs_const),
                                  "seconds": b.phase, "clients": CLIENTS}
