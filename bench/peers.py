"""Each touch's cost against the peers' designs (bench/sql/peers.sql): throughput, latency, WAL, HOT, growth,
and pg_waldump's breakdown of the WAL."""
from __future__ import annotations

import os
import re
import subprocess
from typing import Any

from harness import PG_BIN, PGB, SESSIONS, Bench, say


def costs_section(b: Bench) -> None:
    """A fixed number of touches per design: throughput, latency, WAL, HOT, growth."""
    n = b.cost_ops
    d = {"live": b.live}
    peer_d = b.peer_defines()
    runs = [("raw UPDATE (PK only)", "bench.raw_sessions", PGB / "raw_update.sql", d),
            ("touch_session", SESSIONS, PGB / "touch_session.sql", d),
            ("connect-pg-simple", 'peer_cps."session"', PGB / "peer_cps_touch.sql", peer_d),
            ("Spring Session JDBC", "peer_spring.spring_session", PGB / "peer_spring_touch.sql", peer_d),
            ("Django db sessions", 'peer_django."django_session"', PGB / "peer_django_touch.sql", peer_d)]
    out: dict[str, Any] = {}
    say(f"costs: {n} touches per design (WAL after a CHECKPOINT, HOT, growth)")
    for name, table, script, defines in runs:
        with b.costs(table, n) as c:
            c.update(b.pgbench(script, transactions=n, defines=defines))
            c["ops"] = c["transactions"]
        out[name] = c
        say(f"  {name}: {c['tps']:.0f} tps, {c['wal_per_op']:.0f} B WAL/touch, HOT {c['hot_ratio']:.2f}, "
            f"heap +{c['heap_growth'] // 1024} KiB, indexes +{c['index_growth'] // 1024} KiB")
    b.results["costs"] = out
    b.results["costs_ops"] = n


def wal_breakdown(b: Bench) -> None:
    """Where a touch's WAL goes: pg_waldump --stats=record over the same number of touches per design."""
    n = b.cost_ops // 2
    peer_d = b.peer_defines()
    runs = [("touch_session", PGB / "touch_session.sql", {"live": b.live}),
            ("raw UPDATE (PK only)", PGB / "raw_update.sql", {"live": b.live}),
            ("connect-pg-simple", PGB / "peer_cps_touch.sql", peer_d)]
    out: dict[str, Any] = {"touches": n}
    say(f"WAL breakdown: pg_waldump --stats=record over {n:,} touches per design")
    runuser = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    row = re.compile(r"^(\S+)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)")
    for name, script, defines in runs:
        b.sql("CHECKPOINT")
        start = b.wal_lsn()
        done = b.pgbench(script, transactions=n, defines=defines)["transactions"]
        end = b.wal_lsn()
        total = b.wal_since(start)
        dump = subprocess.run([*runuser, str(PG_BIN / "pg_waldump"), "--stats=record", "-p",
                               str(b.cluster.data / "pg_wal"), "-s", start, "-e", end],
                              capture_output=True, text=True, check=False)
        records: dict[str, dict[str, float]] = {}
        for line in dump.stdout.splitlines():
            m = row.match(line.strip())
            if m and m.group(1) != "Total":
                records[m.group(1)] = {"count_per_touch": int(m.group(2)) / done,
                                       "bytes_per_touch": int(m.group(5)) / done}
        out[name] = {"wal_per_touch": total / done, "records": records}
        top = sorted(records.items(), key=lambda kv: -kv[1]["bytes_per_touch"])[:4]
        say(f"  {name}: {total / done:.0f} B/touch; " + ", ".join(
            f"{k} {v['bytes_per_touch']:.0f} B ({v['count_per_touch']:.2f}/touch)" for k, v in top))
    b.results["wal_breakdown"] = out
