#!/usr/bin/env python3
"""The package on a Citus coordinator with two workers (loopback) against one node, in one run
(issue 15): throughput, p50/p99 and each server's CPU per call of touch_session, append_message,
get_context and get_or_create_session (pgbench, lone calls), and a cleanup of --sessions idle
sessions.

    .venv/bin/python bench/citus.py [--seconds 10] [--clients 4] [--sessions 100000]

Writes bench/results/citus.json and bench/results/citus.md. Both setups run one after the other on
the same machine, with the embedded clusters' settings (fsync, synchronous_commit and
full_page_writes off); the three Citus nodes share the machine's cores with the load generator.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from pgcluster import PG_BIN, CitusCluster, EmbeddedCluster  # noqa: E402

DB = "chat"
USERS = 1000
CALLS = {
    # pgbench substitutes :n inside the literal: each call is a lone SELECT of one session's id.
    "touch_session": "\\set n random(1, :sessions)\nSELECT session_manager.touch_session('seed-:n');\n",
    "append_message": "\\set n random(1, :sessions)\n"
                      "SELECT session_manager.append_message('seed-:n', 'user', 'Quanto gastei este mes?');\n",
    # The set-returning call in the select list, as the other calls: a lone SELECT f(...).
    "get_context": "\\set n random(1, 1000)\nSELECT session_manager.get_context('seed-:n', 50);\n",
    "get_or_create_session": "\\set u random(1, 1000)\n\\set c random(1, 5)\n"
                             "SELECT session_manager.get_or_create_session('user-:u', 'geral', 'chat-:c');\n",
}


def say(msg: str) -> None:
    print(msg, flush=True)


def prepare(cluster: EmbeddedCluster | CitusCluster, sessions: int) -> float:
    dsn = cluster.dsn(DB)
    for f, extra in (("app_schema.sql", []), ("app_seed.sql", ["-v", f"users={USERS}", "-v", f"sessions={sessions}"])):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", str(ROOT / "scripts" / f),
                        *extra], check=True, capture_output=True)
    env = {**os.environ, "SQITCH_FULLNAME": "bench", "SQITCH_EMAIL": "bench@localhost"}
    started = time.monotonic()
    subprocess.run(["sqitch", "deploy", "--set", "schedule=off", cluster.sqitch_target(DB)], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    took = time.monotonic() - started
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now()""")
        # The first 1,000 sessions get 60 messages each for get_context(50).
        for i in range(1, 1001):
            conn.execute("""SELECT session_manager.append_messages(%s, (SELECT jsonb_agg(jsonb_build_object(
                              'role', 'user', 'content', 'mensagem ' || g)) FROM generate_series(1, 60) g))""",
                         (f"seed-{i}",))
        conn.execute("ANALYZE")
    return took


TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    # Fields after the command name, which may hold spaces: state is [0], utime [11], stime [12],
    # cutime [13], cstime [14] (proc(5) numbers them 3, 14-17).
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_cpu_seconds(node: EmbeddedCluster) -> float:
    """CPU used so far by one server: its postmaster, its live backends and workers, and the children
    it has reaped (the postmaster's cutime/cstime), so a backend that ends between two readings still
    counts once."""
    postmaster = int((node.data / "postmaster.pid").read_text().split()[0])
    fields = _stat(postmaster)
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
        try:
            f = _stat(int(child))
        except FileNotFoundError:  # ended meanwhile: its time is in the postmaster's cutime now
            continue
        ticks += int(f[11]) + int(f[12])
    return ticks / TICKS


def nodes_of(cluster: EmbeddedCluster | CitusCluster) -> dict[str, EmbeddedCluster]:
    if isinstance(cluster, CitusCluster):
        return {"coordinator": cluster.coordinator, **{f"worker {i + 1}": w for i, w in enumerate(cluster.workers)}}
    return {"server": cluster}


def pgbench(cluster: EmbeddedCluster | CitusCluster, script: str, sessions: int, clients: int,
            seconds: int) -> dict[str, object]:
    nodes = nodes_of(cluster)
    cpu_before = {name: server_cpu_seconds(n) for name, n in nodes.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.sql"
        path.write_text(script)
        out = subprocess.run([str(PG_BIN / "pgbench"), "-n", "-c", str(clients), "-j", str(min(clients, 2)),
                              "-T", str(seconds), "-D", f"sessions={sessions}", "-f", str(path), "-l",
                              "--log-prefix", str(Path(tmp) / "log"), cluster.dsn(DB)],
                             check=True, capture_output=True, text=True, cwd=tmp).stdout
        latencies = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                latencies.append(int(line.split()[2]) / 1000.0)  # microseconds -> ms
    cpu = {name: round(server_cpu_seconds(n) - cpu_before[name], 2) for name, n in nodes.items()}
    tps = next(float(line.split("=")[1].split()[0]) for line in out.splitlines() if line.startswith("tps"))
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {"tps": round(tps, 1), "p50_ms": round(q[49], 3), "p99_ms": round(q[98], 3), "calls": len(latencies),
            # CPU seconds each server used during the call's run, and per call in microseconds.
            "cpu_seconds": cpu, "cpu_us_per_call": {k: round(v * 1e6 / len(latencies)) for k, v in cpu.items()}}


def cleanup(cluster: EmbeddedCluster | CitusCluster) -> dict[str, float]:
    with psycopg.connect(cluster.dsn(DB), autocommit=True) as conn:
        conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '2 hours'
                        WHERE "isActive" """)
        started = time.monotonic()
        row = conn.execute("SELECT session_manager.cleanup_old_sessions()").fetchone()
        took = time.monotonic() - started
    assert row is not None
    return {"deactivated": int(row[0]), "seconds": round(took, 2)}


def measure(name: str, cluster: EmbeddedCluster | CitusCluster, args: argparse.Namespace) -> dict[str, object]:
    say(f"== {name}: deploying onto {args.sessions} sessions")
    result: dict[str, object] = {"deploy_seconds": round(prepare(cluster, args.sessions), 1)}
    for call, script in CALLS.items():
        result[call] = pgbench(cluster, script, args.sessions, args.clients, args.seconds)
        say(f"   {call:<22} {result[call]}")
    result["cleanup"] = cleanup(cluster)
    say(f"   cleanup                {result['cleanup']}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=100_000)
    args = parser.parse_args()
    results: dict[str, object] = {"settings": vars(args), "load_before": os.getloadavg()[0]}
    with EmbeddedCluster() as one:
        results["one node"] = measure("one node", one, args)
    with CitusCluster(workers=2) as citus:
        results["citus, coordinator + 2 workers"] = measure("citus, coordinator + 2 workers", citus, args)
    results["load_after"] = os.getloadavg()[0]
    out = ROOT / "bench" / "results"
    (out / "citus.json").write_text(json.dumps(results, indent=2) + "\n")
    one_r, cit_r = results["one node"], results["citus, coordinator + 2 workers"]
    assert isinstance(one_r, dict) and isinstance(cit_r, dict)
    lines = [f"# Citus (coordinator + 2 workers, loopback) against one node: bench/citus.py, {args.clients} pgbench "
             f"clients, {args.seconds} s a call, {args.sessions} sessions", "",
             f"Load average of the shared 2-core machine before/after: {results['load_before']:.1f} / "
             f"{results['load_after']:.1f}.", "",
             "| call | one node: per s, p50, p99 (ms) | Citus: per s, p50, p99 (ms) | Citus / one node |",
             "|---|---|---|---|"]
    for call in CALLS:
        a, b = one_r[call], cit_r[call]
        lines.append(f"| {call} | {a['tps']:,.0f}, {a['p50_ms']}, {a['p99_ms']} | {b['tps']:,.0f}, {b['p50_ms']}, "
                     f"{b['p99_ms']} | {b['tps'] / a['tps']:.2f} |")
    lines += ["", "CPU per call on each server (microseconds; /proc of each postmaster and its children during the "
              "call's run; pgbench's own CPU not counted), and the coordinator's share of the Citus servers' CPU:", "",
              "| call | one node | Citus: coordinator, workers | coordinator's share |", "|---|---|---|---|"]
    for call in CALLS:
        a_cpu, b_cpu = one_r[call]["cpu_us_per_call"], cit_r[call]["cpu_us_per_call"]
        b_secs = cit_r[call]["cpu_seconds"]
        share = b_secs["coordinator"] / max(sum(b_secs.values()), 1e-9)
        workers = ", ".join(str(v) for k, v in b_cpu.items() if k != "coordinator")
        lines.append(f"| {call} | {a_cpu['server']} | {b_cpu['coordinator']}; {workers} | {share:.0%} |")
    lines += ["", f"Cleanup of every session (`cleanup_old_sessions()`): one node {one_r['cleanup']}; "
              f"Citus {cit_r['cleanup']}.",
              f"Deploy (`sqitch deploy`): one node {one_r['deploy_seconds']} s; Citus {cit_r['deploy_seconds']} s.", ""]
    (out / "citus.md").write_text("\n".join(lines))
    say("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
