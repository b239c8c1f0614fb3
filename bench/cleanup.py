"""Cleanup under a touch load: run_cleanup_job and the peers' prunes, and cleanup_batch_size."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import psycopg

from harness import MAIN, PGB, SESSIONS, Bench, say


def cleanup(b: Bench) -> None:
    chunk = 1 if b.quick else 3
    d = {"live": b.live}
    touch = PGB / "touch_session.sql"
    out: dict[str, Any] = {"ours": {}, "one_scan": {}, "peers": {}, "chunk_seconds": chunk}
    say("cleanup: touch load without cleanup (baseline)")
    out["baseline"] = b.touch_load(touch, d, 3, chunk)
    for n in b.cleanup_sizes:
        say(f"cleanup: {n:,} idle sessions; run_cleanup_job (a COMMIT per batch) under touch load")
        b.add_idle(f"idle{n}", n)
        with b.costs(SESSIONS, 0) as c:
            r = b.cleanup_under_load(touch, d, b.run_cleanup_job, chunk)
            c["ops"] = r["job"]["deactivated"]
        r["wal_bytes"], r["wal_per_session"] = c["wal_bytes"], c["wal_per_op"]
        r["baseline"] = b.touch_load(touch, d, 2, chunk)
        out["ours"][str(n)] = r
        say(f"  deactivated {r['job']['deactivated']:,} in {r['job']['seconds']:.1f} s; touch p99 "
            f"{r['during']['p99_ms']:.1f} ms during vs {r['baseline']['p99_ms']:.1f} ms after; max "
            f"{r['during']['max_ms']:.1f} ms")
        # The same again with the one-scan variant of the cleanup (bench/sql/variants.sql).
        b.add_idle(f"idle1s{n}", n)
        r = b.cleanup_under_load(touch, d, lambda: b.run_cleanup_job(
            procedure="bench_variants.cleanup_one_scan"), chunk)
        r["baseline"] = b.touch_load(touch, d, 2, chunk)
        out["one_scan"][str(n)] = r
        say(f"  one-scan variant: {r['job']['deactivated']:,} in {r['job']['seconds']:.1f} s; touch p99 "
            f"{r['during']['p99_ms']:.1f} ms during vs {r['baseline']['p99_ms']:.1f} ms after")
    peers = [("connect-pg-simple", PGB / "peer_cps_touch.sql",
              'DELETE FROM peer_cps."session" WHERE expire < to_timestamp(%s)', lambda: [time.time()]),
             ("Spring Session JDBC", PGB / "peer_spring_touch.sql",
              "DELETE FROM peer_spring.SPRING_SESSION WHERE EXPIRY_TIME < %s", lambda: [int(time.time() * 1000)]),
             ("Django db sessions", PGB / "peer_django_touch.sql",
              'DELETE FROM peer_django."django_session" WHERE "django_session"."expire_date" < %s',
              lambda: [datetime.now(timezone.utc)])]
    peer_d = b.peer_defines()
    start = 20_000_000
    for n in b.cleanup_sizes:
        with b.loading(MAIN) as cur:
            b.load_peers(cur, 0, n, start=start)
        start += 2 * n + 10
        b.sql("VACUUM ANALYZE peer_cps.session, peer_spring.spring_session, peer_django.django_session")
        for name, script, stmt, param in peers:
            say(f"cleanup: {name} prunes {n:,} expired sessions under its own touch load")
            base = b.touch_load(script, peer_d, 2, chunk)

            def prune(stmt: str = stmt, param: Callable[[], list[Any]] = param) -> dict[str, Any]:
                with psycopg.connect(b.cluster.dsn(MAIN), autocommit=True) as c:
                    return {"deleted": c.execute(stmt, param()).rowcount}  # type: ignore[arg-type]

            r = b.cleanup_under_load(script, peer_d, prune, chunk)
            r["baseline"] = base
            out["peers"].setdefault(name, {})[str(n)] = r
            say(f"  deleted {r['job']['deleted']:,} in {r['job']['seconds']:.1f} s; touch p99 "
                f"{r['during']['p99_ms']:.1f} ms during vs {base['p99_ms']:.1f} ms without")
    b.results["cleanup"] = out


def batch_sizes(b: Bench) -> None:
    """(a) How long one cleanup batch holds its row locks, per batch size, under the touch load."""
    n = 5_000 if b.quick else 30_000
    chunk = 1 if b.quick else 3
    out: dict[str, Any] = {"sessions": n}
    for bs in (100, 1000) if b.quick else (100, 1000, 5000, 10000):
        b.add_idle(f"bs{bs}", n)
        say(f"batch size {bs}: deactivating {n:,} sessions batch by batch (a COMMIT each) under touch load")

        def job(bs: int = bs) -> dict[str, Any]:
            durations: list[float] = []
            with psycopg.connect(b.cluster.dsn(MAIN), autocommit=True) as c:
                while True:
                    t0 = time.perf_counter()
                    done = c.execute("SELECT session_manager.deactivate_idle_batch(interval '1 day', %s, NULL)",
                                     [bs]).fetchone()[0]  # type: ignore[index]
                    durations.append(time.perf_counter() - t0)
                    if done < bs:
                        break
            return b.batch_stats(durations)

        r = b.cleanup_under_load(PGB / "touch_session.sql", {"live": b.live}, job, chunk)
        out[str(bs)] = r
        say(f"  {r['job']['batches']} batches, median {r['job']['batch_ms_median']:.0f} ms, max "
            f"{r['job']['batch_ms_max']:.0f} ms; total {r['job']['seconds']:.1f} s; touch p99 "
            f"{r['during']['p99_ms']:.1f} ms")
        # The one-scan design (bench_variants.cleanup_one_scan), batch by batch from here: the
        # candidates found once, then each batch by primary key in its own transaction.
        b.add_idle(f"bs1s{bs}", n)

        def job_one_scan(bs: int = bs) -> dict[str, Any]:
            durations: list[float] = []
            with psycopg.connect(b.cluster.dsn(MAIN), autocommit=True) as c:
                t0 = time.perf_counter()
                ids = [row[0] for row in c.execute(
                    f"""SELECT id FROM {SESSIONS}
                        WHERE "isActive" AND "lastActivity" < now() - interval '1 day'""")]
                scan_ms = (time.perf_counter() - t0) * 1000
                for i in range(0, len(ids), bs):
                    t0 = time.perf_counter()
                    c.execute(f"""UPDATE {SESSIONS} c SET "isActive" = false WHERE c.id IN (
                                  SELECT t.id FROM {SESSIONS} t WHERE t.id = ANY(%s) AND t."isActive"
                                    AND t."lastActivity" < now() - interval '1 day'
                                  FOR NO KEY UPDATE OF t SKIP LOCKED)""", [ids[i:i + bs]])
                    durations.append(time.perf_counter() - t0)
            return {**b.batch_stats(durations), "scan_ms": scan_ms}

        r = b.cleanup_under_load(PGB / "touch_session.sql", {"live": b.live}, job_one_scan, chunk)
        out.setdefault("one_scan", {})[str(bs)] = r
        say(f"  one scan: {r['job']['batches']} batches, median {r['job']['batch_ms_median']:.0f} ms, max "
            f"{r['job']['batch_ms_max']:.0f} ms (+ {r['job']['scan_ms']:.0f} ms scan); total "
            f"{r['job']['seconds']:.1f} s; touch p99 {r['during']['p99_ms']:.1f} ms")
    b.results["batch_sizes"] = out


# (cleanup_batch_size, cleanup_batch_pause in ms) tried by cleanup_pacing, the default among them.
PACING = [(1000, 0), (1000, 20), (1000, 100), (200, 20)]


def cleanup_pacing(b: Bench) -> None:
    """Cleanup that yields: touch p99 while run_cleanup_job clears a large backlog, against the p99 without
    cleanup measured right after, and the cleanup's total time, for a few batch sizes and pauses. The time
    budget is lifted (1 day) so that one run clears the whole backlog and its total time is measured."""
    n = 20_000 if b.quick else 200_000
    chunk = 1 if b.quick else 2
    d = {"live": b.live}
    touch = PGB / "touch_session.sql"
    out: dict[str, Any] = {"sessions": n, "chunk_seconds": chunk, "runs": []}
    b.sql("UPDATE session_manager.settings SET cleanup_time_budget = interval '1 day'")
    for size, pause_ms in PACING:
        b.sql("UPDATE session_manager.settings SET cleanup_batch_size = %s, cleanup_batch_pause = %s::interval",
              [size, f"{pause_ms} milliseconds"])
        b.add_idle(f"pace{size}-{pause_ms}", n)
        say(f"cleanup_pacing: {n:,} idle sessions, batches of {size}, pause {pause_ms} ms, under touch load")
        r = b.cleanup_under_load(touch, d, b.run_cleanup_job, chunk)
        base = b.touch_load(touch, d, 2, chunk)
        row = {"batch_size": size, "pause_ms": pause_ms, "seconds": r["job"]["seconds"],
               "deactivated": r["job"]["deactivated"], "p99_during_ms": r["during"]["p99_ms_median"],
               "p99_worst_chunk_ms": r["during"]["p99_ms"], "tps_during": r["during"]["tps"],
               "p99_without_ms": base["p99_ms_median"], "tps_without": base["tps"]}
        row["p99_ratio"] = row["p99_during_ms"] / row["p99_without_ms"]
        row["sessions_per_second"] = row["deactivated"] / row["seconds"]
        out["runs"].append(row)
        say(f"  {row['seconds']:.1f} s ({row['sessions_per_second']:.0f} sessions/s); touch p99 "
            f"{row['p99_during_ms']:.2f} ms during / {row['p99_without_ms']:.2f} ms without = {row['p99_ratio']:.2f}")
    b.sql("UPDATE session_manager.settings SET cleanup_batch_size = DEFAULT, cleanup_batch_pause = DEFAULT, "
          "cleanup_time_budget = DEFAULT")
    b.results["cleanup_pacing"] = out
