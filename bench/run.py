#!/usr/bin/env python3
"""pg-session-manager benchmarks: the package side by side with the raw-UPDATE limit and the peers' designs.

    bash bench/run.sh [--quick]          # what to run (sets up .venv, then this file)
    .venv/bin/python bench/run.py [--quick] [--keep] [--only SECTION,...]

Starts a throwaway cluster (scripts/pgcluster.py, its settings are in the report), creates the
application's tables, deploys the package with sqitch (without scheduling: no cron job may run in the
middle of a measurement), loads the data, runs every section with pgbench (bench/pgbench/*.sql) and the
Python client (bench/client_load.py), and writes bench/results/results.json; bench/report.py turns that
into bench/results/report.md and the PNG figures.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PGB = BENCH / "pgbench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT / "scripts"))

from pgcluster import PG_BIN, SETTINGS, EmbeddedCluster  # noqa: E402

PGBENCH = str(PG_BIN / "pgbench") if (PG_BIN / "pgbench").exists() else "pgbench"
TEMPLATE, MAIN, GROWTH = "bench_tpl", "bench", "bench_growth"
SESSIONS = 'public."conversationSessions"'
USERS = 1000
CLIENTS = 4  # pgbench clients for throughput: 2 per core saturates this machine
# Compressed time for the throttling pattern: every interval (message gaps, touch_resolution) is
# divided by this, which leaves the fractions (writes per message, lag per resolution) unchanged.
TIME_SCALE = 10.0


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def lat_summary(lat_us: list[int]) -> dict[str, float]:
    ms = [x / 1000 for x in lat_us]
    return {"p50_ms": pct(ms, 0.5), "p99_ms": pct(ms, 0.99), "max_ms": max(ms, default=0.0),
            "mean_ms": statistics.fmean(ms) if ms else 0.0, "samples": len(ms)}


class Bench:
    def __init__(self, cluster: EmbeddedCluster, args: argparse.Namespace) -> None:
        self.cluster = cluster
        self.args = args
        self.quick: bool = args.quick
        q = self.quick
        self.live = 20_000 if q else 100_000           # live sessions the touch loads pick from
        self.history = 20_000 if q else 100_000        # inactive sessions in the main database
        self.cost_ops = 10_000 if q else 100_000       # touches per WAL / HOT / growth run
        self.pairs = 3 if q else 12                    # alternating raw / touch_session pairs
        self.phase = 1 if q else 3                     # seconds per throughput phase
        self.cleanup_sizes = [20_000] if q else [100_000, 1_000_000]
        self.results: dict[str, Any] = {}
        self._conns: dict[str, psycopg.Connection[Any]] = {}

    # -- plumbing ---------------------------------------------------------------------------------------
    def conn(self, db: str = MAIN) -> psycopg.Connection[Any]:
        c = self._conns.get(db)
        if c is None or c.closed:
            c = psycopg.connect(self.cluster.dsn(db), autocommit=True)
            self._conns[db] = c
        return c

    def sql(self, query: str, params: Any = None, db: str = MAIN) -> list[tuple[Any, ...]]:
        cur = self.conn(db).execute(query, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []

    def one(self, query: str, params: Any = None, db: str = MAIN) -> Any:
        return self.sql(query, params, db)[0][0]

    def close_all(self) -> None:
        for c in self._conns.values():
            c.close()
        self._conns.clear()

    def pgbench(self, script: Path | str, *, db: str = MAIN, seconds: int | None = None,
                transactions: int | None = None, clients: int = CLIENTS,
                defines: dict[str, Any] | None = None, per_tx: int = 1) -> dict[str, Any]:
        """One pgbench run; throughput from pgbench, latencies from its per-transaction log."""
        with tempfile.TemporaryDirectory(prefix="smbench-") as d:
            cmd = [PGBENCH, "-n", "-M", "prepared", "-h", "127.0.0.1", "-p", str(self.cluster.port), "-U", "postgres",
                   "-c", str(clients), "-j", str(min(clients, 2)), "-f", str(script), "-l", "--log-prefix", f"{d}/tx"]
            cmd += ["-T", str(seconds)] if seconds else ["-t", str(max(1, (transactions or 1) // clients))]
            for k, v in (defines or {}).items():
                cmd += ["-D", f"{k}={v}"]
            cmd.append(db)
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                raise RuntimeError(f"pgbench {script} failed:\n{out.stdout}\n{out.stderr}")
            lat: list[int] = []
            for f in Path(d).iterdir():
                for line in f.read_text().splitlines():
                    parts = line.split()
                    if len(parts) > 2 and parts[2].isdigit():
                        lat.append(int(parts[2]))
        tps = float(re.search(r"tps = ([\d.]+) \(without", out.stdout).group(1))  # type: ignore[union-attr]
        done = int(re.search(r"actually processed: (\d+)", out.stdout).group(1))  # type: ignore[union-attr]
        res = {"tps": tps, "ops_per_s": tps * per_tx, "transactions": done, "clients": clients}
        res.update(lat_summary(lat))
        return res

    def simultaneous(self, base: Path, other: Path, seconds: int, defines: dict[str, Any]) -> float:
        """other's throughput / base's, both running at once with half the clients each: whatever else the
        machine is doing weighs on both sides alike, so the ratio is the ratio of their costs."""
        res: dict[str, float] = {}

        def go(key: str, script: Path) -> None:
            res[key] = self.pgbench(script, seconds=seconds, clients=CLIENTS // 2, defines=defines)["tps"]

        threads = [threading.Thread(target=go, args=(k, sc)) for k, sc in (("base", base), ("other", other))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return res["other"] / res["base"]

    def table_stats(self, table: str, db: str = MAIN) -> dict[str, int]:
        self.sql("SELECT pg_stat_clear_snapshot()", db=db)
        upd, hot, heap, idx = self.sql(
            "SELECT n_tup_upd, n_tup_hot_upd, pg_relation_size(relid), pg_indexes_size(relid) "
            "FROM pg_stat_user_tables WHERE relid = %s::regclass", [table], db=db)[0]
        return {"upd": upd, "hot": hot, "heap": heap, "index": idx}

    def wal_lsn(self, db: str = MAIN) -> str:
        return str(self.one("SELECT pg_current_wal_lsn()", db=db))

    def wal_since(self, lsn: str, db: str = MAIN) -> int:
        return int(self.one("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [lsn], db=db))

    @contextmanager
    def costs(self, table: str, expected_updates: int, db: str = MAIN) -> Iterator[dict[str, Any]]:
        """WAL bytes, HOT ratio and table/index growth of what runs inside (after a CHECKPOINT)."""
        self.sql("CHECKPOINT", db=db)
        s0, lsn = self.table_stats(table, db), self.wal_lsn(db)
        out: dict[str, Any] = {}
        yield out
        wal = self.wal_since(lsn, db)
        if not expected_updates:
            time.sleep(1.0)
        # Backends report their counters when they exit: wait until this run's updates show.
        deadline = time.monotonic() + 5
        while True:
            s1 = self.table_stats(table, db)
            if s1["upd"] - s0["upd"] >= 0.99 * expected_updates or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        upd, hot = s1["upd"] - s0["upd"], s1["hot"] - s0["hot"]
        ops = out.get("ops", expected_updates) or 1
        out.update({"wal_bytes": wal, "wal_per_op": wal / ops, "updates": upd, "hot_updates": hot,
                    "hot_ratio": hot / upd if upd else None, "heap_growth": s1["heap"] - s0["heap"],
                    "index_growth": s1["index"] - s0["index"], "heap_after": s1["heap"], "index_after": s1["index"]})

    def set_setting(self, column: str, value: str, db: str = MAIN) -> None:
        self.sql(f"UPDATE session_manager.settings SET {column} = %s::interval", [value], db=db)

    def peer_defines(self) -> dict[str, Any]:
        """pgbench variables of the peers' touch scripts: their clock starts at now + one day of max age."""
        now = time.time()
        return {"live": self.live, "k": 0, "base": int(now) + 86400, "base_ms": int(now * 1000) + 86_400_000,
                "data": "c2Vzc2lvbi1kYXRhLW9mLWEtbG9nZ2VkLWluLXVzZXItd2l0aC1hLWNzcmYtdG9rZW4:1t2Xq9"}

    def variant_script(self, function: str) -> Path:
        text = (PGB / "touch_variant.sql").read_text().replace("FUNCTION", function)
        path = Path(tempfile.gettempdir()) / f"smbench_variant_{function}.sql"
        path.write_text(text)
        return path

    def client(self, mode: str, seconds: float, **opts: Any) -> dict[str, Any]:
        cmd = [sys.executable, str(BENCH / "client_load.py"), self.cluster.dsn(MAIN), mode, "--seconds", str(seconds)]
        for k, v in opts.items():
            cmd += [f"--{k.replace('_', '-')}", str(v)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"client_load {mode} failed:\n{out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    # -- setup ------------------------------------------------------------------------------------------
    def setup(self) -> None:
        say("setup: template database, application tables, sqitch deploy (schedule=off)")
        started = time.monotonic()
        self.sql(f'CREATE DATABASE "{TEMPLATE}"', db="postgres")
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.cluster.dsn(TEMPLATE),
                        "-f", str(ROOT / "scripts/app_schema.sql")], check=True, capture_output=True)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"users={USERS}", "-v", "sessions=5000",
                        "-d", self.cluster.dsn(TEMPLATE), "-f", str(ROOT / "scripts/app_seed.sql")],
                       check=True, capture_output=True)
        self.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db=TEMPLATE)
        env = {**os.environ, "SQITCH_FULLNAME": "bench", "SQITCH_EMAIL": "bench@localhost"}
        out = subprocess.run(["sqitch", "deploy", "--set", "schedule=off", self.cluster.sqitch_target(TEMPLATE)],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit("sqitch deploy failed:\n" + out.stdout + out.stderr)
        plan = [ln.split()[1] for ln in out.stdout.splitlines() if ln.strip().startswith("+")]
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "deploy", "sqitch.plan"], cwd=ROOT,
                               capture_output=True, text=True, check=False).stdout.strip()
        # A day of idle timeout: nothing loaded at the start may expire during the run.
        self.sql("UPDATE session_manager.settings SET idle_timeout = interval '1 day'", db=TEMPLATE)
        say(f"setup: {len(plan)} changes deployed in {time.monotonic() - started:.1f} s; loading data")
        t = TEMPLATE
        with self.loading(t) as cur:
            # Live sessions '1'..live (pgbench picks ids with random(1, :live)); the paced chats' sessions
            # from 1000001; inactive history 'h-...'.
            cur.execute(f"""INSERT INTO {SESSIONS} (id, "userId", agent, title, "chatId", "lastActivity")
                SELECT g::text, 'user-' || (1 + g % {USERS}), (ARRAY['financeiro','max','geral'])[1 + g % 3],
                       'Conversa ' || g, 'chat-' || g, now() - interval '1 minute'
                FROM generate_series(1, {self.live}) g""")
            cur.execute(f"""INSERT INTO {SESSIONS} (id, "userId", agent, title, "chatId", "lastActivity")
                SELECT g::text, 'user-' || (1 + g % {USERS}), 'geral', 'Chat ' || g, NULL, now() - interval '1 hour'
                FROM generate_series(1000001, 1020000) g""")
            cur.execute(self.history_insert("h", self.history))
            cur.execute("""CREATE SCHEMA bench;
                CREATE TABLE bench.raw_sessions AS SELECT * FROM public."conversationSessions" WHERE false;""")
            cur.execute(f'INSERT INTO bench.raw_sessions SELECT * FROM {SESSIONS} WHERE id ~ %s', [r"^\d+$"])
            cur.execute("ALTER TABLE bench.raw_sessions ADD PRIMARY KEY (id)")
            cur.execute((BENCH / "sql/peers.sql").read_text())
            cur.execute((BENCH / "sql/variants.sql").read_text())
            self.load_peers(cur, self.live, expired=0)
        # The seed's sessions idle past the timeout: cleaned now, so that each cleanup below counts its own.
        self.sql("CALL session_manager.run_cleanup_job()", db=t)
        self.sql(f"VACUUM (ANALYZE) {SESSIONS}", db=t)
        self.sql("VACUUM ANALYZE", db=t)
        self.clone(MAIN)
        self.run_meta["deploy"] = {"changes": len(plan), "git_head": head.stdout.strip(),
                                          "uncommitted_package_changes": bool(dirty)}
        say(f"setup: done in {time.monotonic() - started:.1f} s")

    def clone(self, name: str) -> None:
        """A database copied from the template (nobody may be connected to the template meanwhile)."""
        self.close_all()
        for attempt in range(10):
            self.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [TEMPLATE],
                     db="postgres")
            try:
                self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"', db="postgres")
                return
            except psycopg.errors.ObjectInUse:
                if attempt == 9:
                    raise
                time.sleep(1)

    @contextmanager
    def loading(self, db: str) -> Iterator[psycopg.Cursor[Any]]:
        """A session for bulk loads: foreign-key triggers off (the rows are made consistent)."""
        with psycopg.connect(self.cluster.dsn(db), autocommit=True) as c, c.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
            yield cur

    def add_idle(self, prefix: str, n: int, db: str = MAIN) -> None:
        """n active sessions idle past the timeout (cleanup's work), then fresh statistics."""
        with self.loading(db) as cur:
            cur.execute(self.idle_insert(prefix, n))
        self.sql(f"VACUUM ANALYZE {SESSIONS}", db=db)

    @staticmethod
    def batch_stats(durations: list[float]) -> dict[str, Any]:
        ms = [x * 1000 for x in durations]
        return {"batches": len(ms), "batch_ms_median": statistics.median(ms), "batch_ms_p90": pct(ms, 0.9),
                "batch_ms_max": max(ms)}

    @staticmethod
    def history_insert(prefix: str, n: int, start: int = 1) -> str:
        return f"""INSERT INTO {SESSIONS}
              (id, "userId", agent, title, "createdAt", "updatedAt", "lastActivity", "isActive")
            SELECT '{prefix}-' || lpad(g::text, 9, '0'), 'user-' || (1 + g % {USERS}), 'geral', 'Conversa antiga ' || g,
                   now()::timestamp - interval '40 days', now()::timestamp - interval '30 days',
                   now() - interval '30 days', false
            FROM generate_series({start}, {start + n - 1}) g"""

    @staticmethod
    def idle_insert(prefix: str, n: int) -> str:
        """Active sessions idle for two days (past the bench's one-day idle_timeout): cleanup's work."""
        return f"""INSERT INTO {SESSIONS} (id, "userId", agent, title, "lastActivity", "isActive")
            SELECT '{prefix}-' || lpad(g::text, 9, '0'), 'user-' || (1 + g % {USERS}), 'max', 'Parada ' || g,
                   now() - interval '2 days', true
            FROM generate_series(1, {n}) g"""

    @staticmethod
    def load_peers(cur: psycopg.Cursor[Any], live: int, expired: int, start: int = 1) -> None:
        """`live` sessions with ids start..start+live-1 expiring tomorrow, then `expired` expired ones."""
        for first, n, when in ((start, live, "now() + interval '1 day'"),
                               (start + live + 10_000_000, expired, "now() - interval '1 hour'")):
            if n == 0:
                continue
            rng = f"generate_series({first}, {first + n - 1}) g"
            cur.execute(f"""INSERT INTO peer_cps."session" (sid, sess, expire)
                SELECT g::text, json_build_object('cookie', json_build_object('originalMaxAge', 86400000,
                       'expires', {when}, 'httpOnly', true, 'path', '/'), 'userId', 'user-' || g), {when}
                FROM {rng}""")
            cur.execute(f"""INSERT INTO peer_spring.SPRING_SESSION
                SELECT g::text, g::text, 0, (extract(epoch FROM {when}) * 1000)::bigint - 1800000, 1800,
                       (extract(epoch FROM {when}) * 1000)::bigint, g::text
                FROM {rng}""")
            cur.execute(f"""INSERT INTO peer_django."django_session"
                SELECT g::text, encode(sha384(g::text::bytea), 'base64') || ':1t2Xq9:signature-of-the-session-data',
                       {when}
                FROM {rng}""")

    # -- sections ---------------------------------------------------------------------------------------
    def touch_pairs(self) -> None:
        """Raw UPDATE vs touch_session, alternating, then the scratch variants round by round."""
        d = {"live": self.live}
        raw, pkg = [], []
        say(f"touch: {self.pairs} alternating pairs raw UPDATE / touch_session, {self.phase} s each, {CLIENTS} clients")
        for i in range(self.pairs):
            order = [("raw", raw, PGB / "raw_update.sql"), ("pkg", pkg, PGB / "touch_session.sql")]
            for _name, acc, script in order if i % 2 == 0 else order[::-1]:
                acc.append(self.pgbench(script, seconds=self.phase, defines=d))
            say(f"  pair {i + 1}: raw {raw[-1]['tps']:.0f} tps, touch_session {pkg[-1]['tps']:.0f} tps "
                f"({pkg[-1]['tps'] / raw[-1]['tps']:.2f})")
        ratios = [p["tps"] / r["tps"] for r, p in zip(raw, pkg, strict=True)]
        say(f"touch: median {statistics.median(ratios):.3f}; then both at once (2 clients each), 5 x {self.phase} s")
        at_once = [self.simultaneous(PGB / "raw_update.sql", PGB / "touch_session.sql", self.phase, d)
                   for _ in range(5)]
        say("  at once: " + ", ".join(f"{x:.2f}" for x in at_once))
        self.results["touch_pairs"] = {"raw": raw, "touch_session": pkg, "ratios": ratios,
                                       "median_ratio": statistics.median(ratios), "clients": CLIENTS,
                                       "seconds": self.phase, "simultaneous": at_once,
                                       "simultaneous_median": statistics.median(at_once)}

        variants = ["invoker_bare", "definer_set_read", "definer_set_const", "definer_qual_read",
                    "definer_qual_const", "definer_qual_onestmt", "sql_definer_qual"]
        rounds = 1 if self.quick else 3
        vres: dict[str, list[float]] = {v: [] for v in [*variants, "package", "package_track_top"]}
        vphase = min(self.phase, 3)
        say(f"touch variants: {rounds} rounds, each variant at once with a raw UPDATE run, {vphase} s each")
        raw_script = PGB / "raw_update.sql"
        for r in range(rounds):
            names = variants if r % 2 == 0 else variants[::-1]
            for v in names:
                vres[v].append(self.simultaneous(raw_script, self.variant_script(v), vphase, d))
            vres["package"].append(self.simultaneous(raw_script, PGB / "touch_session.sql", vphase, d))
            # The same function with pg_stat_statements tracking top-level statements only and no
            # function statistics: what the embedded cluster's monitoring settings cost a touch.
            self.sql("ALTER SYSTEM SET pg_stat_statements.track = 'top'")
            self.sql("ALTER SYSTEM SET track_functions = 'none'")
            self.sql("SELECT pg_reload_conf()")
            time.sleep(0.3)
            vres["package_track_top"].append(self.simultaneous(raw_script, PGB / "touch_session.sql", vphase, d))
            self.sql("ALTER SYSTEM RESET pg_stat_statements.track")
            self.sql("ALTER SYSTEM RESET track_functions")
            self.sql("SELECT pg_reload_conf()")
            time.sleep(0.3)
            say(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in vres.items()))
        self.results["touch_variants"] = {k: {"ratios": v, "median_ratio": statistics.median(v)}
                                          for k, v in vres.items()}

    def costs_section(self) -> None:
        """A fixed number of touches per design: throughput, latency, WAL, HOT, growth."""
        n = self.cost_ops
        d = {"live": self.live}
        peer_d = self.peer_defines()
        runs = [("raw UPDATE (PK only)", "bench.raw_sessions", PGB / "raw_update.sql", d),
                ("touch_session", SESSIONS, PGB / "touch_session.sql", d),
                ("connect-pg-simple", 'peer_cps."session"', PGB / "peer_cps_touch.sql", peer_d),
                ("Spring Session JDBC", "peer_spring.spring_session", PGB / "peer_spring_touch.sql", peer_d),
                ("Django db sessions", 'peer_django."django_session"', PGB / "peer_django_touch.sql", peer_d)]
        out: dict[str, Any] = {}
        say(f"costs: {n} touches per design (WAL after a CHECKPOINT, HOT, growth)")
        for name, table, script, defines in runs:
            with self.costs(table, n) as c:
                c.update(self.pgbench(script, transactions=n, defines=defines))
                c["ops"] = c["transactions"]
            out[name] = c
            say(f"  {name}: {c['tps']:.0f} tps, {c['wal_per_op']:.0f} B WAL/touch, HOT {c['hot_ratio']:.2f}, "
                f"heap +{c['heap_growth'] // 1024} KiB, indexes +{c['index_growth'] // 1024} KiB")
        self.results["costs"] = out
        self.results["costs_ops"] = n

    def shapes(self) -> None:
        """(b) the same touch on copies of the sessions table: fillfactor and an index on "lastActivity"."""
        n = self.cost_ops
        # (name, fillfactor the rows are laid out with, fillfactor afterwards, extra index on "lastActivity")
        shapes = [("package indexes, fillfactor 85 (deployed)", 85, 85, False),
                  ("package indexes + index on lastActivity, ff 85", 85, 85, True),
                  ("package indexes, fillfactor 100", 100, 100, False),
                  ("package indexes, fillfactor 70", 70, 70, False),
                  ("package indexes, rows laid out at ff 70, then ff 85", 70, 85, False)]
        out: dict[str, Any] = {}
        say(f"shapes: {n} touches on copies of the sessions table")
        for name, ff, ff_after, extra in shapes:
            self.sql("DROP SCHEMA IF EXISTS bench_shape CASCADE; CREATE SCHEMA bench_shape")
            self.sql(f"""CREATE TABLE bench_shape.sessions (LIKE {SESSIONS} INCLUDING DEFAULTS INCLUDING INDEXES)
                         WITH (fillfactor = {ff})""")
            if extra:
                self.sql('CREATE INDEX ON bench_shape.sessions ("lastActivity")')
            self.sql(f"INSERT INTO bench_shape.sessions SELECT * FROM {SESSIONS} WHERE id ~ %s", [r"^\d+$"])
            if ff_after != ff:
                # Pages keep the room they were filled with, while pruning starts at the new fillfactor's.
                self.sql(f"ALTER TABLE bench_shape.sessions SET (fillfactor = {ff_after})")
            self.sql("VACUUM ANALYZE bench_shape.sessions")
            with self.costs("bench_shape.sessions", n) as c:
                c.update(self.pgbench(PGB / "shape_touch.sql", transactions=n, defines={"live": self.live}))
                c["ops"] = c["transactions"]
            c["fillfactor"], c["fillfactor_after"], c["lastactivity_index"] = ff, ff_after, extra
            out[name] = c
            say(f"  {name}: {c['tps']:.0f} tps, {c['wal_per_op']:.0f} B WAL/touch, HOT {c['hot_ratio']:.2f}, "
                f"heap +{c['heap_growth'] // 1024} KiB, indexes +{c['index_growth'] // 1024} KiB")
        self.sql("DROP SCHEMA IF EXISTS bench_shape CASCADE")
        self.results["shapes"] = out

    def batches(self) -> None:
        out: dict[str, Any] = {}
        say("touch_sessions: batches of 10, 100, 1000 random ids")
        single = self.pgbench(PGB / "touch_session.sql", seconds=self.phase, defines={"live": self.live})
        out["1 (touch_session)"] = single
        for b in (10, 100, 1000):
            r = self.pgbench(PGB / "touch_sessions.sql", seconds=self.phase, per_tx=b,
                             defines={"live": self.live, "batch": b})
            out[str(b)] = r
            say(f"  batch {b}: {r['tps']:.0f} calls/s = {r['ops_per_s']:.0f} touches/s, p99 {r['p99_ms']:.1f} ms")
        self.results["batches"] = out

    def python_client(self) -> None:
        secs = 1 if self.quick else 6
        rounds = 1 if self.quick else 2
        out: dict[str, list[dict[str, Any]]] = {"pgbench": [], "threads": [], "async": [], "async-4": [],
                                                "batch": [], "psycopg": [], "psycopg-async": []}
        say(f"python client: {rounds} rounds of pgbench / threads / async / batch, {secs} s each, pools of {CLIENTS}")
        for _ in range(rounds):
            out["pgbench"].append(self.pgbench(PGB / "touch_session.sql", seconds=secs, defines={"live": self.live}))
            out["threads"].append(self.client("threads", secs, workers=8, pool=CLIENTS, live=self.live))
            out["async"].append(self.client("async", secs, workers=32, pool=CLIENTS, live=self.live))
            out["async-4"].append(self.client("async", secs, workers=CLIENTS, pool=CLIENTS, live=self.live))
            out["batch"].append(self.client("batch", secs, workers=CLIENTS, pool=CLIENTS, live=self.live,
                                            batch=100))
            out["psycopg"].append(self.client("psycopg", secs, workers=CLIENTS, live=self.live))
            out["psycopg-async"].append(self.client("psycopg-async", secs, workers=CLIENTS, live=self.live))
            rates = {k: v[-1].get("touches_per_s", v[-1].get("tps", 0.0)) for k, v in out.items()}
            say("  " + ", ".join(f"{k} {x:.0f} touches/s" for k, x in rates.items()))
        self.results["python_client"] = out

    def throttling(self) -> None:
        """touch_resolution on a chat-like pattern: full speed (throughput) and paced (WAL, lag)."""
        out: dict[str, Any] = {"time_scale": TIME_SCALE, "saturated": {}, "paced": {}, "chats": 300}
        n = self.cost_ops // 2
        say("throttling: bursts of 8 touches per session at full speed, touch_resolution 0 and 10 s")
        for res in ("0", "10 seconds"):
            self.set_setting("touch_resolution", res)
            with self.costs(SESSIONS, 0) as c:
                c.update(self.pgbench(PGB / "touch_burst.sql", transactions=n,
                                      defines={"live": self.live, "burst": 8, "i": 0, "n": 1}))
                c["ops"] = c["transactions"]
            out["saturated"][res] = c
            say(f"  resolution {res}: {c['tps']:.0f} messages/s, {c['wal_per_op']:.0f} B WAL/message, "
                f"{c['updates'] / c['ops']:.2f} writes/message")
        # Paced chats: 100 chats, 10 messages each ~10 s apart (5-15 s), resolutions up to 30 s; time
        # compressed TIME_SCALE times so that each value takes seconds.
        secs = 3 if self.quick else 15
        gap_real, burst, chats = 10.0, 10, 300
        first = 1_000_001
        for real in (0, 30) if self.quick else (0, 2, 5, 10, 30):
            self.sql("UPDATE session_manager.settings SET touch_resolution = make_interval(secs => %s)",
                     [real / TIME_SCALE])
            with self.costs(SESSIONS, 0) as c:
                r = self.client("paced", secs, workers=chats, pool=CLIENTS, burst=burst, gap=gap_real / TIME_SCALE,
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
        self.set_setting("touch_resolution", "0")
        self.results["throttling"] = out

    def context(self) -> None:
        sizes = [10, 100, 1000, 100_000]
        out: dict[str, Any] = {"sizes": {}}
        say("context: sessions with 10, 100, 1,000, 100,000 messages, ours and langchain-postgres's table")
        ids: dict[int, tuple[str, str]] = {}
        with self.loading(MAIN) as cur:
            for n in sizes:
                sid, lc = f"ctx-{n}", str(uuid.uuid4())
                ids[n] = (sid, lc)
                cur.execute(f"""INSERT INTO {SESSIONS} (id, "userId", agent, title)
                                VALUES (%s, 'user-1', 'geral', 'ctx')""", [sid])
                cur.execute("""INSERT INTO session_manager.messages (message_id, session_id, role, content)
                    SELECT gen_random_uuid(), %s, CASE WHEN g %% 2 = 0 THEN 'assistant' ELSE 'user' END,
                           'Mensagem ' || g || ': quanto gastei com mercado este mês? Preciso fechar o orçamento.'
                    FROM generate_series(1, %s) g""", [sid, n])
                cur.execute("INSERT INTO session_manager.session_message_counts VALUES (%s, %s)", [sid, n])
                cur.execute("""INSERT INTO peer_langchain."chat_history" (session_id, message)
                    SELECT %s, jsonb_build_object('type', CASE WHEN g %% 2 = 0 THEN 'ai' ELSE 'human' END,
                           'data', jsonb_build_object('content', 'Mensagem ' || g
                           || ': quanto gastei com mercado este mês? Preciso fechar o orçamento.',
                           'additional_kwargs', '{}'::jsonb, 'type', 'human'))
                    FROM generate_series(1, %s) g""", [lc, n])
        self.sql("VACUUM ANALYZE session_manager.messages, peer_langchain.chat_history")
        secs = 1 if self.quick else 4
        for n in sizes:
            sid, lc = ids[n]
            row = {"get_context": self.pgbench(PGB / "get_context.sql", seconds=secs, defines={"sid": sid}),
                   "langchain_get": self.pgbench(PGB / "langchain_get.sql", seconds=secs, defines={"sid": lc})}
            out["sizes"][str(n)] = row
        # The target: get_context of the last 50 with 100,000 messages against 100, alternating.
        pairs: list[float] = []
        for i in range(3 if self.quick else 9):
            got: dict[int, float] = {}
            for n in (100, 100_000) if i % 2 == 0 else (100_000, 100):
                got[n] = self.pgbench(PGB / "get_context.sql", seconds=secs, defines={"sid": ids[n][0]})["tps"]
            pairs.append(got[100_000] / got[100])
        out["get_context_100k_vs_100"] = {"ratios": pairs, "median_ratio": statistics.median(pairs)}
        for n in sizes:
            sid, lc = ids[n]
            row = out["sizes"][str(n)]
            # WAL per message and growth of the messages tables, from the same runs.
            with self.costs("session_manager.messages", 0) as c:
                c.update(self.pgbench(PGB / "append_message.sql", seconds=secs, defines={"sid": sid}))
                c["ops"] = c["transactions"]
            row["append_message"] = c
            with self.costs('peer_langchain."chat_history"', 0) as c:
                c.update(self.pgbench(PGB / "langchain_append.sql", seconds=secs, defines={"sid": lc}))
                c["ops"] = c["transactions"]
            row["langchain_append"] = c
            say(f"  {n} messages: get_context {row['get_context']['tps']:.0f}/s, langchain get "
                f"{row['langchain_get']['tps']:.1f}/s, append_message {row['append_message']['tps']:.0f}/s, "
                f"langchain append {row['langchain_append']['tps']:.0f}/s")
        self.results["context"] = out

    def wal_breakdown(self) -> None:
        """Where a touch's WAL goes: pg_waldump --stats=record over the same number of touches per design."""
        n = self.cost_ops // 2
        peer_d = self.peer_defines()
        runs = [("touch_session", PGB / "touch_session.sql", {"live": self.live}),
                ("raw UPDATE (PK only)", PGB / "raw_update.sql", {"live": self.live}),
                ("connect-pg-simple", PGB / "peer_cps_touch.sql", peer_d)]
        out: dict[str, Any] = {"touches": n}
        say(f"WAL breakdown: pg_waldump --stats=record over {n:,} touches per design")
        runuser = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        row = re.compile(r"^(\S+)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)")
        for name, script, defines in runs:
            self.sql("CHECKPOINT")
            start = self.wal_lsn()
            done = self.pgbench(script, transactions=n, defines=defines)["transactions"]
            end = self.wal_lsn()
            total = self.wal_since(start)
            dump = subprocess.run([*runuser, str(PG_BIN / "pg_waldump"), "--stats=record", "-p",
                                   str(self.cluster.data / "pg_wal"), "-s", start, "-e", end],
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
        self.results["wal_breakdown"] = out

    def chat_turns(self) -> None:
        """Whole chat turns (bench/pgbench/chat_turn.sql): what one server sustains, and its WAL per message."""
        out: dict[str, Any] = {}
        say("chat turns: get_or_create_session, append (user), get_context, append (assistant)")
        for clients in (4, 8):
            with self.costs("session_manager.messages", 0) as c:
                c.update(self.pgbench(PGB / "chat_turn.sql", seconds=self.phase * 2, clients=clients,
                                      defines={"users": USERS, "chats": 5000}))
                c["ops"] = 2 * c["transactions"]  # WAL per message: two messages a turn
            out[str(clients)] = c
            say(f"  {clients} clients: {c['tps']:.0f} turns/s = {2 * c['tps']:.0f} messages/s, p50 "
                f"{c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms, {c['wal_per_op']:.0f} B WAL/message")
        self.results["chat_turns"] = out

    def touch_load(self, script: Path, defines: dict[str, Any], chunks: int, chunk: int,
                   db: str = MAIN) -> dict[str, Any]:
        lat: list[dict[str, Any]] = [self.pgbench(script, seconds=chunk, defines=defines, db=db) for _ in range(chunks)]
        return self.merge(lat)

    @staticmethod
    def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"tps": statistics.fmean(r["tps"] for r in runs), "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                "p99_ms": max(r["p99_ms"] for r in runs), "p99_ms_median": statistics.median(r["p99_ms"] for r in runs),
                "max_ms": max(r["max_ms"] for r in runs), "chunks": len(runs)}

    def cleanup_under_load(self, script: Path, defines: dict[str, Any], job: Callable[[], dict[str, Any]],
                           chunk: int, db: str = MAIN) -> dict[str, Any]:
        """Touch latency while `job` runs (it starts 1 s into the first pgbench chunk; chunks follow until
        it is done), from pgbench's per-transaction logs."""
        result: dict[str, Any] = {}

        def run() -> None:
            time.sleep(1.0)
            t0 = time.monotonic()
            result.update(job())
            result["seconds"] = time.monotonic() - t0

        th = threading.Thread(target=run)
        t_start = time.monotonic() + 1.0
        th.start()
        runs: list[dict[str, Any]] = []
        series: list[dict[str, float]] = []
        while True:
            r = self.pgbench(script, seconds=chunk, defines=defines, db=db)
            runs.append(r)
            series.append({"t": round(time.monotonic() - t_start, 1), "tps": r["tps"], "p99_ms": r["p99_ms"],
                           "max_ms": r["max_ms"]})
            if not th.is_alive():
                break
        th.join()
        return {"job": result, "during": self.merge(runs), "series": series}

    def run_cleanup_job(self, db: str = MAIN, procedure: str = "session_manager.run_cleanup_job") -> dict[str, Any]:
        with psycopg.connect(self.cluster.dsn(db), autocommit=True) as c:
            before = c.execute(f'SELECT count(*) FROM {SESSIONS} WHERE "isActive"').fetchone()[0]  # type: ignore[index]
            c.execute(f"CALL {procedure}()")
            after = c.execute(f'SELECT count(*) FROM {SESSIONS} WHERE "isActive"').fetchone()[0]  # type: ignore[index]
        return {"deactivated": before - after}

    def cleanup(self) -> None:
        chunk = 1 if self.quick else 3
        d = {"live": self.live}
        touch = PGB / "touch_session.sql"
        out: dict[str, Any] = {"ours": {}, "one_scan": {}, "peers": {}, "chunk_seconds": chunk}
        say("cleanup: touch load without cleanup (baseline)")
        out["baseline"] = self.touch_load(touch, d, 3, chunk)
        for n in self.cleanup_sizes:
            say(f"cleanup: {n:,} idle sessions; run_cleanup_job (a COMMIT per batch) under touch load")
            self.add_idle(f"idle{n}", n)
            with self.costs(SESSIONS, 0) as c:
                r = self.cleanup_under_load(touch, d, self.run_cleanup_job, chunk)
                c["ops"] = r["job"]["deactivated"]
            r["wal_bytes"], r["wal_per_session"] = c["wal_bytes"], c["wal_per_op"]
            r["baseline"] = self.touch_load(touch, d, 2, chunk)
            out["ours"][str(n)] = r
            say(f"  deactivated {r['job']['deactivated']:,} in {r['job']['seconds']:.1f} s; touch p99 "
                f"{r['during']['p99_ms']:.1f} ms during vs {r['baseline']['p99_ms']:.1f} ms after; max "
                f"{r['during']['max_ms']:.1f} ms")
            # The same again with the one-scan variant of the cleanup (bench/sql/variants.sql).
            self.add_idle(f"idle1s{n}", n)
            r = self.cleanup_under_load(touch, d, lambda: self.run_cleanup_job(
                procedure="bench_variants.cleanup_one_scan"), chunk)
            r["baseline"] = self.touch_load(touch, d, 2, chunk)
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
        peer_d = self.peer_defines()
        start = 20_000_000
        for n in self.cleanup_sizes:
            with self.loading(MAIN) as cur:
                self.load_peers(cur, 0, n, start=start)
            start += 2 * n + 10
            self.sql("VACUUM ANALYZE peer_cps.session, peer_spring.spring_session, peer_django.django_session")
            for name, script, stmt, param in peers:
                say(f"cleanup: {name} prunes {n:,} expired sessions under its own touch load")
                base = self.touch_load(script, peer_d, 2, chunk)

                def prune(stmt: str = stmt, param: Callable[[], list[Any]] = param) -> dict[str, Any]:
                    with psycopg.connect(self.cluster.dsn(MAIN), autocommit=True) as c:
                        return {"deleted": c.execute(stmt, param()).rowcount}  # type: ignore[arg-type]

                r = self.cleanup_under_load(script, peer_d, prune, chunk)
                r["baseline"] = base
                out["peers"].setdefault(name, {})[str(n)] = r
                say(f"  deleted {r['job']['deleted']:,} in {r['job']['seconds']:.1f} s; touch p99 "
                    f"{r['during']['p99_ms']:.1f} ms during vs {base['p99_ms']:.1f} ms without")
        self.results["cleanup"] = out

    def batch_sizes(self) -> None:
        """(a) How long one cleanup batch holds its row locks, per batch size, under the touch load."""
        n = 5_000 if self.quick else 30_000
        chunk = 1 if self.quick else 3
        out: dict[str, Any] = {"sessions": n}
        for bs in (100, 1000) if self.quick else (100, 1000, 5000, 10000):
            self.add_idle(f"bs{bs}", n)
            say(f"batch size {bs}: deactivating {n:,} sessions batch by batch (a COMMIT each) under touch load")

            def job(bs: int = bs) -> dict[str, Any]:
                durations: list[float] = []
                with psycopg.connect(self.cluster.dsn(MAIN), autocommit=True) as c:
                    while True:
                        t0 = time.perf_counter()
                        done = c.execute("SELECT session_manager.deactivate_idle_batch(interval '1 day', %s, NULL)",
                                         [bs]).fetchone()[0]  # type: ignore[index]
                        durations.append(time.perf_counter() - t0)
                        if done < bs:
                            break
                return self.batch_stats(durations)

            r = self.cleanup_under_load(PGB / "touch_session.sql", {"live": self.live}, job, chunk)
            out[str(bs)] = r
            say(f"  {r['job']['batches']} batches, median {r['job']['batch_ms_median']:.0f} ms, max "
                f"{r['job']['batch_ms_max']:.0f} ms; total {r['job']['seconds']:.1f} s; touch p99 "
                f"{r['during']['p99_ms']:.1f} ms")
            # The one-scan design (bench_variants.cleanup_one_scan), batch by batch from here: the
            # candidates found once, then each batch by primary key in its own transaction.
            self.add_idle(f"bs1s{bs}", n)

            def job_one_scan(bs: int = bs) -> dict[str, Any]:
                durations: list[float] = []
                with psycopg.connect(self.cluster.dsn(MAIN), autocommit=True) as c:
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
                return {**self.batch_stats(durations), "scan_ms": scan_ms}

            r = self.cleanup_under_load(PGB / "touch_session.sql", {"live": self.live}, job_one_scan, chunk)
            out.setdefault("one_scan", {})[str(bs)] = r
            say(f"  one scan: {r['job']['batches']} batches, median {r['job']['batch_ms_median']:.0f} ms, max "
                f"{r['job']['batch_ms_max']:.0f} ms (+ {r['job']['scan_ms']:.0f} ms scan); total "
                f"{r['job']['seconds']:.1f} s; touch p99 {r['during']['p99_ms']:.1f} ms")
        self.results["batch_sizes"] = out

    def growth(self) -> None:
        """Touch throughput and cleanup time with 100,000 vs 10,000,000 inactive sessions of history."""
        big = self.args.growth_rows
        small_db, big_db = GROWTH + "_small", GROWTH + "_big"
        say(f"growth: two fresh copies of the loaded database; {big:,} inactive sessions added to one")
        self.clone(small_db)
        self.clone(big_db)
        t0 = time.monotonic()
        step = min(big, 2_500_000)
        with self.loading(big_db) as cur:
            for s in range(1, big + 1, step):
                cur.execute(self.history_insert("g", min(step, big - s + 1), start=s))
                say(f"  {s + step - 1:,} rows ({time.monotonic() - t0:.0f} s)")
        self.sql(f"VACUUM (ANALYZE) {SESSIONS}", db=big_db)
        load_s = time.monotonic() - t0
        dbs = {"small": small_db, "big": big_db}
        sizes = {k: self.one(f"SELECT pg_total_relation_size('{SESSIONS}')", db=db) for k, db in dbs.items()}
        say(f"  loaded in {load_s:.0f} s; sessions table {sizes['big'] / 2**30:.2f} GiB vs "
            f"{sizes['small'] / 2**20:.0f} MiB")
        small_r: list[float] = []
        big_r: list[float] = []
        for i in range(3 if self.quick else 9):
            order = [(small_db, small_r), (big_db, big_r)]
            for db, acc in order if i % 2 == 0 else order[::-1]:
                acc.append(self.pgbench(PGB / "touch_session.sql", seconds=self.phase, defines={"live": self.live},
                                        db=db)["tps"])
            say(f"  pair {i + 1}: {small_r[-1]:.0f} tps with {self.history:,} of history, {big_r[-1]:.0f} with {big:,}")
        ratios = [b / s for s, b in zip(small_r, big_r, strict=True)]
        cleanup: dict[str, Any] = {}
        for k, db in dbs.items():
            self.add_idle("gr", 100_000, db=db)
            plan = self.sql(f"""EXPLAIN SELECT c.id FROM {SESSIONS} c WHERE c."isActive"
                                AND c."lastActivity" < now() - interval '1 day' LIMIT 1000
                                FOR NO KEY UPDATE OF c SKIP LOCKED""", db=db)
            t = time.monotonic()
            r = self.run_cleanup_job(db)
            cleanup[k] = {"seconds": time.monotonic() - t, **r, "plan": [p[0] for p in plan]}
            # The every-minute run when there is nothing to clean, and the one-scan design's candidate
            # query (no LIMIT: the planner can use the index of active sessions).
            t = time.monotonic()
            self.run_cleanup_job(db)
            cleanup[k]["empty_run_seconds"] = time.monotonic() - t
            t = time.monotonic()
            self.run_cleanup_job(db, procedure="bench_variants.cleanup_one_scan")
            cleanup[k]["empty_run_one_scan_seconds"] = time.monotonic() - t
            cleanup[k]["one_scan_plan"] = [p[0] for p in self.sql(
                f"""EXPLAIN SELECT c.id FROM {SESSIONS} c WHERE c."isActive"
                    AND c."lastActivity" < now() - interval '1 day'""", db=db)]
            say(f"  cleanup of 100,000 idle sessions with the {k} history: {cleanup[k]['seconds']:.1f} s; a run with "
                f"nothing to clean {cleanup[k]['empty_run_seconds'] * 1000:.0f} ms (one-scan design "
                f"{cleanup[k]['empty_run_one_scan_seconds'] * 1000:.0f} ms)")
        self.close_all()
        for db in dbs.values():
            self.sql(f'DROP DATABASE "{db}"', db="postgres")
        self.results["growth"] = {"history": {"small": self.history, "big": big}, "load_seconds": load_s,
                                  "table_bytes": sizes, "tps_small": small_r, "tps_big": big_r, "ratios": ratios,
                                  "median_ratio": statistics.median(ratios), "cleanup": cleanup}

    # -- driver -----------------------------------------------------------------------------------------
    def meta(self) -> None:
        ver = self.one("SELECT version()", db="postgres")
        self.run_meta: dict[str, Any] = {
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "quick": self.quick,
            "cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "postgres": ver, "cluster_settings": SETTINGS, "pgbench": PGBENCH, "pgbench_clients": CLIENTS,
            "pgbench_mode": "prepared", "live_sessions": self.live, "history_sessions": self.history,
            "cost_ops": self.cost_ops, "phase_seconds": self.phase, "autovacuum": "on (default)"}
        self.results["meta"] = self.run_meta


SECTIONS = ["touch_pairs", "costs_section", "shapes", "batches", "python_client", "throttling", "context",
            "chat_turns", "wal_breakdown", "cleanup", "batch_sizes", "growth"]


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
    only = [s for s in args.only.split(",") if s] or SECTIONS
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
            getattr(bench, name)()
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
