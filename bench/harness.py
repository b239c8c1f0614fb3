"""The shared harness of the benchmarks: the throwaway cluster's database, pgbench and its latency logs,
WAL/HOT/growth accounting, the data every section starts from, and the Python client's load process.

Each file beside it measures one thing (touch_limit, peers, client, context, cleanup, growth) as functions
taking a Bench; run.py runs them all and writes the report.
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
