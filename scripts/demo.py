#!/usr/bin/env python3
"""The main job on the embedded default: a throwaway cluster, the application's tables full of
sessions, `sqitch deploy`, simulated WhatsApp/web chat traffic through the package's functions,
cleanup by the pg_cron job itself, and a report of what happened.

    bash scripts/demo.sh [--seconds N] [--workers N] [--keep] [--citus [--citus-workers N]]

With --citus the same demo runs on a Citus coordinator with N workers (default 2), where
`sqitch deploy` distributes the package, and the report says what each worker holds.

Each step is a function of ``Demo``; a later feature adds a step to ``STEPS``.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

from session_manager import SessionManager, SessionManagerError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from pgcluster import CRON_DATABASE, CitusCluster, EmbeddedCluster  # noqa: E402

AGENTS = ("financeiro", "max", "geral")


def say(msg: str) -> None:
    print(msg, flush=True)


class Demo:
    def __init__(self, cluster: EmbeddedCluster | CitusCluster, args: argparse.Namespace) -> None:
        self.cluster = cluster
        self.args = args
        self.db = CRON_DATABASE
        self.dsn = cluster.dsn(self.db)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cur = conn.execute(query, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    # -- steps ---------------------------------------------------------------
    def create_application_tables(self) -> None:
        say("== 1. The application's database, as its ORM left it")
        for f, extra in (("app_schema.sql", []), ("app_seed.sql", ["-v", "users=500", "-v", "sessions=5000"])):
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn, "-f",
                            str(ROOT / "scripts" / f), *extra], check=True)
        n, idle = self.sql("""
            SELECT count(*), count(*) FILTER (WHERE "updatedAt" < now()::timestamp - interval '30 minutes')
            FROM public."conversationSessions" """)[0]
        say(f"   {n} existing sessions of 500 users; {idle} last updated more than 30 minutes ago")

    def deploy(self) -> None:
        say("== 2. An administrator creates the extensions; sqitch deploys the package")
        self.sql("CREATE EXTENSION IF NOT EXISTS pg_cron")
        self.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        env = {**os.environ, "SQITCH_FULLNAME": "demo", "SQITCH_EMAIL": "demo@localhost"}
        target = self.cluster.sqitch_target(self.db)
        started = time.monotonic()
        out = subprocess.run(["sqitch", "deploy", target], cwd=ROOT, env=env, capture_output=True, text=True,
                             check=False)
        if out.returncode != 0:
            raise SystemExit("sqitch deploy failed:\n" + out.stdout + out.stderr)
        changes = sum(1 for line in out.stdout.splitlines() if line.strip().startswith("+"))
        say(f"   deployed {changes} changes in {time.monotonic() - started:.1f} s; sqitch verify:")
        out = subprocess.run(["sqitch", "verify", target], cwd=ROOT, env=env, capture_output=True, text=True,
                             check=False)
        say("   " + (out.stdout.strip().splitlines() or ["?"])[-1])
        self.print_states("   after deploy")

    def simulate_chat_traffic(self) -> None:
        seconds, workers = self.args.seconds, self.args.workers
        say(f"== 3. Chat traffic: {workers} workers for {seconds} s (WhatsApp chats and web sessions)")
        stop = time.monotonic() + seconds
        # The application's way in: one pooled SessionManager shared by every worker thread.
        with SessionManager(self.dsn, max_size=workers) as manager:
            threads = [threading.Thread(target=self._worker, args=(manager, i, stop)) for i in range(workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            timings = manager.call_stats()
        c = self.counts
        calls = sum(t.count for t in timings.values())
        say(f"   {calls} calls in {seconds} s ({calls / seconds:.0f}/s): {c['created']} sessions created, "
            f"{c['reused']} existing sessions resumed, {c['messages']} messages stored, {c['touches']} touches, "
            f"{c['context']} contexts read, {c['ended']} sessions ended, {c['errors']} errors")
        for method, t in sorted(timings.items(), key=lambda kv: -kv[1].count):
            say(f"   {method:<24} {t.count:>7} calls, mean {t.mean_seconds * 1000:6.2f} ms, "
                f"max {t.max_seconds * 1000:7.2f} ms (the client's view, pool wait included)")

    def _worker(self, manager: SessionManager, n: int, stop: float) -> None:
        rnd = random.Random(n)
        local: Counter[str] = Counter()
        while time.monotonic() < stop:
            user = f"user-{rnd.randint(1, 500)}"
            # WhatsApp: a user has a few chats that come back; web: a new session every time.
            chat = f"55119{user[5:]:0>5}{rnd.randint(0, 2)}@c.us" if rnd.random() < 0.7 else None
            try:
                session = manager.get_or_create_session(user, rnd.choice(AGENTS), chat)
                local["reused" if session.message_count else "created"] += 1
                for turn in range(rnd.randint(1, 3)):
                    manager.append_message(session.session_id, "user", f"pergunta {turn}")
                    manager.get_context(session.session_id)
                    manager.append_message(session.session_id, "assistant", f"resposta {turn}")
                    manager.touch_session(session.session_id)
                    local["messages"] += 2
                    local["context"] += 1
                    local["touches"] += 1
                if chat is None and rnd.random() < 0.3:
                    manager.end_session(session.session_id)
                    local["ended"] += 1
            except SessionManagerError:
                local["errors"] += 1
        with self.lock:
            self.counts.update(local)

    def cleanup_by_pg_cron(self) -> None:
        say("== 4. Nobody calls cleanup: pg_cron runs it every minute inside the database")
        job = f"session_manager_cleanup_{self.db}"
        jobid, schedule, command = self.sql("SELECT jobid, schedule, command FROM cron.job WHERE jobname = %s", job)[0]
        say(f"   job {job} ({schedule}): {command}")
        before = self.sql("SELECT coalesce(max(runid), 0) FROM cron.job_run_details WHERE jobid = %s", jobid)[0][0]
        backlog = self.idle_backlog()
        say(f"   {backlog} active sessions idle past the timeout; waiting for the job's next run record ...")
        deadline = time.monotonic() + 130
        row: list[tuple[object, ...]] = []
        while time.monotonic() < deadline:
            row = self.sql("""SELECT status, return_message, end_time - start_time FROM cron.job_run_details
                              WHERE jobid = %s AND runid > %s AND status IN ('succeeded', 'failed')
                              ORDER BY runid LIMIT 1""", jobid, before)
            if row:
                break
            time.sleep(1)
        if not row:
            raise SystemExit("pg_cron did not run the cleanup job within 130 s")
        status, message, took = row[0]
        say(f"   run {status} ({message}) in {took}; idle backlog now {self.idle_backlog()}")
        if status != "succeeded":
            raise SystemExit("the cleanup job failed: " + str(message))

    def report(self) -> None:
        say("== 5. What happened")
        self.print_states("   now")
        (msgs,) = self.sql("SELECT count(*) FROM session_manager.messages")[0]
        say(f"   {msgs} messages stored")
        for name, calls, total, mean in self.sql("""
                SELECT funcname, calls, round(total_time::numeric, 1), round((total_time / calls)::numeric, 3)
                FROM pg_stat_user_functions WHERE schemaname = 'session_manager' AND calls > 0
                ORDER BY calls DESC LIMIT 8"""):
            say(f"   {name:<24} {calls:>8} calls {total:>10} ms total {mean:>8} ms mean")

    def citus_report(self) -> None:
        if not isinstance(self.cluster, CitusCluster):
            return
        say("== 5b. Where the rows are: what each Citus worker holds")
        rows = self.sql("""
            SELECT r.nodeport, t.name, count(*), sum(r.result::bigint)
            FROM (VALUES ('public."conversationSessions"'), ('session_manager.messages')) AS t(name),
                 run_command_on_placements(t.name::regclass, 'SELECT count(*) FROM %%s') AS r
            GROUP BY 1, 2 ORDER BY 1, 2""")
        for port, name, shards, n in rows:
            say(f"   worker 127.0.0.1:{port}: {name:<30} {shards:>3} shards, {n:>7} rows")
        (kinds,) = self.sql("""
            SELECT string_agg(logicalrelid::text || ' ' || CASE partmethod WHEN 'h' THEN 'hash('
                              || column_to_column_name(logicalrelid, partkey) || ')' ELSE 'reference' END,
                              ', ' ORDER BY logicalrelid::text) FROM pg_dist_partition""")[0]
        say(f"   distribution: {kinds}")

    def status(self) -> None:
        say("== 6. What an on-call DBA sees: session-manager status and health")
        cli = str(Path(sys.executable).parent / "session-manager")
        for command in ("status", "health"):
            out = subprocess.run([cli, command, "--dsn", self.dsn], capture_output=True, text=True, check=False)
            for line in (out.stdout + out.stderr).rstrip().splitlines():
                say("   " + line)

    # -- helpers -------------------------------------------------------------
    def idle_backlog(self) -> int:
        return int(self.sql("""SELECT count(*) FROM public."conversationSessions" c, session_manager.settings s
                               WHERE c."isActive" AND c."lastActivity" < now() - s.idle_timeout""")[0][0])  # type: ignore[call-overload]

    def print_states(self, label: str) -> None:
        live, backlog, inactive = self.sql("""
            SELECT count(*) FILTER (WHERE c."isActive" AND c."lastActivity" >= now() - s.idle_timeout),
                   count(*) FILTER (WHERE c."isActive" AND c."lastActivity" < now() - s.idle_timeout),
                   count(*) FILTER (WHERE NOT c."isActive")
            FROM public."conversationSessions" c, session_manager.settings s""")[0]
        say(f"{label}: {live} live, {backlog} active but idle past the timeout, {inactive} inactive")


STEPS = ("create_application_tables", "deploy", "simulate_chat_traffic", "cleanup_by_pg_cron", "report", "citus_report",
         "status")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="how long the chat traffic runs (default 20)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent chat workers (default 8)")
    parser.add_argument("--keep", action="store_true", help="leave the cluster running and print how to reach it")
    parser.add_argument("--citus", action="store_true", help="run on a Citus coordinator with workers")
    parser.add_argument("--citus-workers", type=int, default=2, help="Citus workers with --citus (default 2)")
    args = parser.parse_args()
    cluster: EmbeddedCluster | CitusCluster = (CitusCluster(workers=args.citus_workers) if args.citus
                                               else EmbeddedCluster())
    cluster.start()
    try:
        if isinstance(cluster, CitusCluster):
            say(f"Throwaway Citus cluster: coordinator 127.0.0.1:{cluster.port}, workers "
                + ", ".join(f"127.0.0.1:{w.port}" for w in cluster.workers) + f" (data in {cluster.dir})")
        else:
            say(f"Throwaway PostgreSQL 15 on 127.0.0.1:{cluster.port} (data in {cluster.dir})")
        demo = Demo(cluster, args)
        for step in STEPS:
            getattr(demo, step)()
        if args.keep:
            stop = "stop-citus" if isinstance(cluster, CitusCluster) else "stop"
            say(f"Cluster left running: psql {cluster.dsn()}  "
                f"(stop: python3 scripts/pgcluster.py {stop} {cluster.dir})")
            return 0
    except BaseException:
        cluster.stop()
        raise
    cluster.stop()
    say("Cluster stopped and removed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
