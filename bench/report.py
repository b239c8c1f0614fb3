#!/usr/bin/env python3
"""bench/results/results.json -> bench/results/report.md and the PNG figures beside it.

    .venv/bin/python bench/report.py [bench/results/results.json]

Run by bench/run.py at the end; run it alone to redraw the report from a stored results.json.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

PEERS = ["connect-pg-simple", "Spring Session JDBC", "Django db sessions"]
COLORS = {"raw UPDATE (PK only)": "#999999", "touch_session": "#1f77b4", "connect-pg-simple": "#ff7f0e",
          "Spring Session JDBC": "#2ca02c", "Django db sessions": "#d62728"}


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class Report:
    def __init__(self, res: dict[str, Any], out: Path) -> None:
        self.r = res
        self.out = out
        self.md: list[str] = []
        self.targets: list[tuple[str, str, float | None, float, str]] = []  # name, figure, value, goal, sense

    def w(self, *lines: str) -> None:
        self.md.extend(lines)

    def fig(self, name: str, title: str) -> None:
        path = self.out / f"{name}.png"
        plt.tight_layout()
        plt.savefig(path, dpi=90)
        plt.close("all")
        self.w(f"![{title}]({name}.png)", "")

    def target(self, name: str, value: float | None, goal: float, sense: str = ">=", detail: str = "") -> None:
        self.targets.append((name, detail, value, goal, sense))

    # -- sections ---------------------------------------------------------------------------------------
    def header(self) -> None:
        m = self.r["meta"]
        s = m["cluster_settings"]
        dep = m.get("deploy", {})
        self.w("# pg-session-manager benchmarks", "",
               f"Run {m['started']} to {m.get('finished', '?')} ({m.get('total_seconds', 0) / 60:.1f} min), "
               f"{'**quick mode**' if m['quick'] else 'full mode'}, by `bash bench/run.sh"
               f"{' --quick' if m['quick'] else ''}`. Every figure below comes from `results.json` beside this file.",
               "",
               f"- Machine: {m['cpus']} CPUs ({m['machine']}), client and server on the same host (127.0.0.1).",
               f"- Server: {m['postgres'].split(',')[0]}, the embedded throwaway cluster of `scripts/pgcluster.py`:",
               "  " + ", ".join(f"`{k}={v}`" for k, v in s.items()
                                if k in ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers",
                                         "wal_level", "max_wal_size", "track_functions", "pg_stat_statements.track",
                                         "shared_preload_libraries")) + "; autovacuum on (default).",
               "  fsync and synchronous_commit off make commits cheap: the figures are CPU costs, not disk latency;",
               "  with full_page_writes off WAL holds no full-page images (a production server writes one per page",
               "  after each checkpoint on top of the figures here).",
               f"- Package: {m.get('deploy', {}).get('changes', '?')} sqitch changes deployed from the working tree "
               f"at {m.get('deploy', {}).get('git_head', '?')}"
               f"{' (with uncommitted package changes)' if dep.get('uncommitted_package_changes') else ''}"
               ", `--set schedule=off` (no cron job during measurements); settings: idle_timeout 1 day (nothing",
               "  loaded may expire during the run), touch_resolution 0 unless stated.",
               *[f"- Sections {', '.join(mr['sections'])} come from a later run merged in (`--merge`, "
                 f"{mr['meta'].get('started', '?')}, {mr['meta'].get('deploy', {}).get('changes', '?')} changes "
                 f"deployed at {mr['meta'].get('deploy', {}).get('git_head', '?')})."
                 for mr in self.r.get("merged_runs", [])],
               f"- Data: {m['live_sessions']:,} live sessions that the touch loads pick at random, "
               f"{m['history_sessions']:,} inactive sessions of history, 5,000 seed sessions, {1000} users.",
               f"- pgbench: `-M prepared`, {m['pgbench_clients']} clients, 2 threads, {m['phase_seconds']} s phases; "
               "latencies from its per-transaction log (`-l`). WAL per operation: `pg_current_wal_lsn()` difference "
               f"over {m['cost_ops']:,} operations after a `CHECKPOINT`. HOT ratio: `n_tup_hot_upd / n_tup_upd` of "
               "`pg_stat_user_tables` over the same operations (read after the backends exit and flush).",
               "")

    def targets_table(self) -> None:
        self.w("## Targets", "", "| target | measured | goal | result | margin |", "|---|---|---|---|---|")
        for name, detail, value, goal, sense in self.targets:
            if value is None:
                self.w(f"| {name} | not measured in this run | {sense} {goal:g} | - | - |")
                continue
            met = value >= goal if sense == ">=" else value <= goal
            margin = value - goal if sense == ">=" else goal - value
            self.w(f"| {name} | {value:.2f}{detail} | {sense} {goal:g} | {'**met**' if met else '**not met**'} | "
                   f"{margin:+.2f} |")
        self.w("")

    def touch(self) -> None:
        tp = self.r.get("touch_pairs")
        if not tp:
            return
        self.w("## The limit: touch_session against a raw UPDATE", "",
               "Raw: `UPDATE bench.raw_sessions SET \"lastActivity\" = now() WHERE id = $1` (prepared) on a copy of "
               "the sessions with only its primary key (bench/pgbench/raw_update.sql). touch_session: "
               "`SELECT session_manager.touch_session($1)` (bench/pgbench/touch_session.sql). Random live ids, "
               f"alternating order, {len(tp['ratios'])} pairs of {tp['seconds']} s.", "",
               "| pair | raw UPDATE tps | touch_session tps | ratio |", "|---|---|---|---|")
        for i, (a, b) in enumerate(zip(tp["raw"], tp["touch_session"], strict=True)):
            self.w(f"| {i + 1} | {a['tps']:.0f} | {b['tps']:.0f} | {b['tps'] / a['tps']:.3f} |")
        raw_p = statistics.median(x["p50_ms"] for x in tp["raw"])
        pkg_p = statistics.median(x["p50_ms"] for x in tp["touch_session"])
        raw_99 = statistics.median(x["p99_ms"] for x in tp["raw"])
        pkg_99 = statistics.median(x["p99_ms"] for x in tp["touch_session"])
        self.w("", f"Median ratio **{tp['median_ratio']:.3f}**. Latency (median of the phases): raw p50 "
               f"{raw_p:.2f} ms / p99 {raw_99:.2f} ms; touch_session p50 {pkg_p:.2f} ms / p99 {pkg_99:.2f} ms.", "")
        if "simultaneous" in tp:
            self.w("The same two side by side at once (2 pgbench clients each, 5 runs), a check that does not "
                   "depend on the machine staying quiet between the two sides of a pair: "
                   + ", ".join(f"{x:.3f}" for x in tp["simultaneous"]) + f" (median {tp['simultaneous_median']:.3f}).",
                   "")
        self.target("touch_session / raw UPDATE throughput (median of pairs)", tp["median_ratio"], 0.80)
        _, ax = plt.subplots(1, 2, figsize=(11, 3.8))
        xs = range(1, len(tp["raw"]) + 1)
        ax[0].plot(xs, [x["tps"] for x in tp["raw"]], "o-", label="raw UPDATE", color="#999999")
        ax[0].plot(xs, [x["tps"] for x in tp["touch_session"]], "o-", label="touch_session", color="#1f77b4")
        ax[0].set_xlabel("pair")
        ax[0].set_ylabel("transactions/s")
        ax[0].set_ylim(bottom=0)
        ax[0].legend()
        ax[0].set_title("alternating pairs")
        tv = self.r.get("touch_variants", {})
        if tv:
            names = sorted(tv, key=lambda k: tv[k]["median_ratio"])
            ax[1].barh(names, [tv[k]["median_ratio"] for k in names], color="#1f77b4")
            ax[1].axvline(0.8, color="red", ls="--", lw=1)
            ax[1].set_xlabel("throughput / raw UPDATE (median of rounds)")
            ax[1].set_title("touch_session variants")
        self.fig("touch_throughput", "touch throughput")
        if tv:
            desc = {
                "invoker_bare": "SECURITY INVOKER, nothing but `UPDATE ... WHERE id = $1` (ceiling for a function)",
                "definer_set_read": "the package's design: DEFINER + `SET search_path`, settings row read per call",
                "definer_set_const": "DEFINER + `SET search_path`, settings as constants",
                "definer_qual_read": "DEFINER, no SET, everything qualified, settings read per call",
                "definer_qual_const": "DEFINER, no SET, everything qualified, settings as constants",
                "definer_qual_onestmt": "DEFINER, no SET, qualified, settings joined into the UPDATE (one statement)",
                "sql_definer_qual": "LANGUAGE sql, DEFINER, no SET, qualified, one statement",
                "package": "session_manager.touch_session as deployed",
                "package_track_top": "as deployed, with `pg_stat_statements.track = top`, `track_functions = none`",
            }
            self.w("Where a touch's time goes: variants of touch_session in a scratch schema "
                   "(bench/sql/variants.sql), each against the same table and rows, as a fraction of the raw UPDATE "
                   "running at the same time (2 pgbench clients each, so that whatever else the machine does "
                   "weighs on both alike), median over the rounds.", "",
                   "| variant | what it is | throughput / raw (median) | rounds |", "|---|---|---|---|")
            for k in sorted(tv, key=lambda k: -tv[k]["median_ratio"]):
                self.w(f"| {k} | {desc.get(k, '')} | {tv[k]['median_ratio']:.3f} | "
                       + ", ".join(f"{x:.2f}" for x in tv[k]["ratios"]) + " |")
            self.w("")

    def costs(self) -> None:
        c = self.r.get("costs")
        if not c:
            return
        n = self.r.get("costs_ops", 0)
        self.w("## Each touch's cost: this package and the peers' designs", "",
               f"{n:,} touches per design, {self.r['meta']['pgbench_clients']} pgbench clients, random live rows "
               "(bench/pgbench/peer_*.sql; their DDL in bench/sql/peers.sql with the source of each statement).", "",
               "| design | touches/s | p50 ms | p99 ms | WAL B/touch | HOT ratio | heap growth | index growth |",
               "|---|---|---|---|---|---|---|---|")
        for k, v in c.items():
            self.w(f"| {k} | {v['tps']:.0f} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['wal_per_op']:.0f} | "
                   f"{(v['hot_ratio'] or 0):.3f} | {fmt_bytes(v['heap_growth'])} | {fmt_bytes(v['index_growth'])} |")
        self.w("")
        ours = c["touch_session"]
        best_peer = min((c[p]["wal_per_op"], p) for p in PEERS if p in c)
        self.target(f"WAL per touch / best peer's ({best_peer[1]}, {best_peer[0]:.0f} B)",
                    ours["wal_per_op"] / best_peer[0], 0.5, "<=", f" ({ours['wal_per_op']:.0f} B)")
        self.target("HOT-update ratio of touch_session under sustained load", ours["hot_ratio"], 0.95)
        names = list(c)
        _, ax = plt.subplots(2, 2, figsize=(12, 7))
        col = [COLORS.get(k, "#555") for k in names]
        ax[0][0].bar(names, [c[k]["tps"] for k in names], color=col)
        ax[0][0].set_title("touches/s")
        ax[0][1].bar(names, [c[k]["wal_per_op"] for k in names], color=col)
        ax[0][1].set_title(f"WAL bytes per touch ({n:,} touches after a CHECKPOINT)")
        ax[1][0].bar(names, [c[k]["hot_ratio"] or 0 for k in names], color=col)
        ax[1][0].set_title("HOT-update ratio")
        ax[1][0].set_ylim(0, 1.05)
        w = 0.4
        xs = list(range(len(names)))
        ax[1][1].bar([x - w / 2 for x in xs], [c[k]["heap_growth"] / 2**20 for k in names], w, label="heap")
        ax[1][1].bar([x + w / 2 for x in xs], [c[k]["index_growth"] / 2**20 for k in names], w, label="indexes")
        ax[1][1].set_xticks(xs, names)
        ax[1][1].legend()
        ax[1][1].set_title(f"growth after {n:,} touches (MiB)")
        for a in ax.flat:
            a.tick_params(axis="x", labelrotation=20, labelsize=8)
        self.fig("touch_costs", "touch costs per design")
        _, ax = plt.subplots(figsize=(8, 3.5))
        ax.bar([x - w / 2 for x in xs], [c[k]["p50_ms"] for k in names], w, label="p50")
        ax.bar([x + w / 2 for x in xs], [c[k]["p99_ms"] for k in names], w, label="p99")
        ax.set_xticks(xs, names, rotation=15, fontsize=8)
        ax.set_ylabel("ms")
        ax.legend()
        ax.set_title("touch latency per design")
        self.fig("touch_latency", "touch latency per design")

    def wal_breakdown(self) -> None:
        wb = self.r.get("wal_breakdown")
        if not wb:
            return
        designs = [k for k in wb if k != "touches"]
        kinds = sorted({r for d in designs for r in wb[d]["records"]},
                       key=lambda r: -max(wb[d]["records"].get(r, {}).get("bytes_per_touch", 0) for d in designs))
        self.w("### Where a touch's WAL goes", "",
               f"`pg_waldump --stats=record` over {wb['touches']:,} touches per design (bytes per touch by record "
               "type; the total from the LSN difference also counts page headers and alignment).", "",
               "| record | " + " | ".join(designs) + " |", "|---|" + "---|" * len(designs))
        for k in kinds:
            cells = []
            for d in designs:
                r = wb[d]["records"].get(k)
                cells.append(f"{r['bytes_per_touch']:.0f} B ({r['count_per_touch']:.2f}/touch)" if r else "-")
            self.w(f"| {k} | " + " | ".join(cells) + " |")
        self.w("| total (LSN difference) | " + " | ".join(f"{wb[d]['wal_per_touch']:.0f} B" for d in designs) + " |",
               "")

    def shapes(self) -> None:
        s = self.r.get("shapes")
        if not s:
            return
        self.w("## Table shape: fillfactor and an index on \"lastActivity\"", "",
               "touch_session's UPDATE on copies of the sessions table (bench/pgbench/shape_touch.sql) with the "
               "package's indexes, at three fillfactors, and with one more index on \"lastActivity\".", "",
               "| shape | touches/s | WAL B/touch | HOT ratio | heap growth | index growth |",
               "|---|---|---|---|---|---|")
        for k, v in s.items():
            self.w(f"| {k} | {v['tps']:.0f} | {v['wal_per_op']:.0f} | {(v['hot_ratio'] or 0):.3f} | "
                   f"{fmt_bytes(v['heap_growth'])} | {fmt_bytes(v['index_growth'])} |")
        base = next(iter(s.values()))
        idx = [v for v in s.values() if v["lastactivity_index"]]
        if idx:
            times = idx[0]["wal_per_op"] / base["wal_per_op"]
            self.w("", f"An index naming \"lastActivity\": WAL per touch x{times:.2f}, "
                   f"HOT ratio {base['hot_ratio']:.2f} -> {idx[0]['hot_ratio']:.2f}.")
        self.w("")
        names = list(s)
        _, ax = plt.subplots(1, 3, figsize=(13, 3.8))
        short = [n.replace("package indexes", "pkg idx").replace("fillfactor", "ff") for n in names]
        ax[0].bar(short, [s[k]["wal_per_op"] for k in names])
        ax[0].set_title("WAL B/touch")
        ax[1].bar(short, [s[k]["hot_ratio"] or 0 for k in names])
        ax[1].set_title("HOT ratio")
        ax[1].set_ylim(0, 1.05)
        ax[2].bar(short, [(s[k]["heap_growth"] + s[k]["index_growth"]) / 2**20 for k in names])
        ax[2].set_title("heap + index growth (MiB)")
        for a in ax:
            a.tick_params(axis="x", labelrotation=25, labelsize=7)
        self.fig("table_shapes", "table shapes")

    def batches(self) -> None:
        b = self.r.get("batches")
        if not b:
            return
        self.w("## touch_sessions: batches", "", "| ids per call | calls/s | touches/s | p50 ms | p99 ms |",
               "|---|---|---|---|---|")
        for k, v in b.items():
            self.w(f"| {k} | {v['tps']:.0f} | {v['ops_per_s']:.0f} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} |")
        self.w("")
        _, ax = plt.subplots(figsize=(6, 3.5))
        ks = list(b)
        ax.bar(ks, [b[k]["ops_per_s"] for k in ks])
        ax.set_ylabel("touches/s")
        ax.set_title("touch_sessions by batch size (pgbench)")
        self.fig("touch_batches", "touch_sessions batches")

    def client(self) -> None:
        pc = self.r.get("python_client")
        if not pc:
            return
        def med(k: str, f: str) -> float:
            return statistics.median(x[f] for x in pc[k])
        pg = med("pgbench", "tps")
        thr, asy, bat = med("threads", "touches_per_s"), med("async", "touches_per_s"), med("batch", "touches_per_s")
        self.w("## The Python client", "",
               "SessionManager.touch_session from 8 threads and AsyncSessionManager.touch_session from 32 asyncio "
               "tasks, each through a pool of 4 connections, and touch_sessions with 100 ids from 4 threads "
               "(bench/client_load.py, its own process), against pgbench's 4 clients on the same function in the "
               "same rounds. The client process and the server share the 2 CPUs.", "",
               "| caller | touches/s | p50 ms | p99 ms | peak RSS of the client process |", "|---|---|---|---|---|",
               f"| pgbench, 4 clients | {pg:.0f} | {med('pgbench', 'p50_ms'):.2f} | "
               f"{med('pgbench', 'p99_ms'):.2f} | - |")
        for k, label in (("threads", "SessionManager, 8 threads"), ("async", "AsyncSessionManager, 32 tasks"),
                         ("async-4", "AsyncSessionManager, 4 tasks"),
                         ("batch", "SessionManager.touch_sessions(100 ids), 4 threads"),
                         ("psycopg", "psycopg alone: 4 threads, a connection each, no pool"),
                         ("psycopg-async", "psycopg AsyncConnection alone: 4 tasks, a connection each")):
            if k not in pc:
                continue
            self.w(f"| {label} | {med(k, 'touches_per_s'):.0f} | {med(k, 'p50_ms'):.2f} | {med(k, 'p99_ms'):.2f} | "
                   f"{max(x['peak_rss_kib'] for x in pc[k]) / 1024:.0f} MiB |")
        self.w("")
        self.target("Python client threads / pgbench, same function", thr / pg, 0.70)
        self.target("Python batch call / single calls (threads)", bat / thr, 5.0)
        _, ax = plt.subplots(figsize=(7, 3.5))
        labels = ["pgbench", "threads", "async", "batch(100)"]
        ax.bar(labels, [pg, thr, asy, bat], color=["#999", "#1f77b4", "#1f77b4", "#2ca02c"])
        ax.set_ylabel("touches/s")
        ax.set_yscale("log")
        ax.set_title("Python client vs pgbench on touch_session")
        self.fig("python_client", "python client")

    def throttling(self) -> None:
        t = self.r.get("throttling")
        if not t:
            return
        sat = t["saturated"]
        self.w("## Touch throttling (touch_resolution)", "",
               "Full speed, chat-like: each pgbench client sends 8 touches to one session, then moves to another "
               "(bench/pgbench/touch_burst.sql).", "",
               "| touch_resolution | messages/s | writes/message | WAL B/message |",
               "|---|---|---|---|")
        for k, v in sat.items():
            self.w(f"| {k} | {v['tps']:.0f} | {v['updates'] / max(1, v['ops']):.2f} | {v['wal_per_op']:.0f} |")
        sc = t["time_scale"]
        self.w("", f"Paced chats (bench/client_load.py `paced`): {t.get('chats', 300)} chats at once, each a burst of "
               "10 messages about "
               f"10 s apart (5-15 s), then a new session. Time runs {sc:g}x compressed (gaps and resolutions "
               "divided by "
               f"{sc:g}; the fractions below do not depend on the scale); figures in real time.", "",
               "| touch_resolution | messages | writes/message | WAL B/message | worst extra idle time (lag of "
               "\"lastActivity\" behind the last message) |", "|---|---|---|---|---|")
        paced = t["paced"]
        per_write = self.r.get("costs", {}).get("touch_session", {}).get("wal_per_op")
        for k, v in paced.items():
            derived = f" ({v['writes_per_message'] * per_write:.0f} derived)" if per_write else ""
            self.w(f"| {k} s | {v['touches']} | {v['writes_per_message']:.2f} | {v['wal_per_op']:.0f}{derived} | "
                   f"{v['lag_max_real_s']:.1f} s |")
        self.w("", "WAL per message is measured over few messages here, so background WAL (autovacuum, the "
               "checkpointer) weighs on it; the derived figure is writes/message x the WAL of one touch_session "
               "write from the costs section.", "")
        _, ax = plt.subplots(1, 3, figsize=(13, 3.6))
        xs = [int(k) for k in paced]
        ax[0].plot(xs, [paced[k]["writes_per_message"] for k in paced], "o-")
        ax[0].set_title("writes per message")
        ax[1].plot(xs, [paced[k]["wal_per_op"] for k in paced], "o-")
        ax[1].set_title("WAL bytes per message")
        ax[2].plot(xs, [paced[k]["lag_max_real_s"] for k in paced], "o-")
        ax[2].plot(xs, xs, "--", color="grey", lw=1, label="= resolution")
        ax[2].legend()
        ax[2].set_title("worst extra idle time (s)")
        for a in ax:
            a.set_xlabel("touch_resolution (s)")
            a.set_ylim(bottom=0)
        self.fig("throttling", "touch throttling")

    def context(self) -> None:
        c = self.r.get("context")
        if not c:
            return
        sizes = c["sizes"]
        self.w("## Context: append_message / get_context against langchain-postgres", "",
               "get_context(session, 50) against langchain-postgres's get_messages (every message of the session; "
               "the caller keeps the last N), and append_message against its INSERT, with 10 to 100,000 messages "
               "in the session.", "",
               "| messages | get_context/s | p99 ms | langchain get/s | p99 ms | append_message/s | p99 ms | "
               "langchain append/s | p99 ms |", "|---|---|---|---|---|---|---|---|---|")
        for k, v in sizes.items():
            g, lg, a, la = v["get_context"], v["langchain_get"], v.get("append_message"), v.get("langchain_append")
            self.w(f"| {int(k):,} | {g['tps']:.0f} | {g['p99_ms']:.2f} | {lg['tps']:.1f} | {lg['p99_ms']:.1f} | "
                   + (f"{a['tps']:.0f} | {a['p99_ms']:.2f} | {la['tps']:.0f} | {la['p99_ms']:.2f} |"
                      if a else "| | | |"))
        pair = c["get_context_100k_vs_100"]
        self.w("", "get_context(50) with 100,000 messages / with 100, alternating: "
               + ", ".join(f"{x:.3f}" for x in pair["ratios"]) + f" (median {pair['median_ratio']:.3f}).", "")
        self.target("get_context(50) with 100,000 messages / with 100", pair["median_ratio"], 0.90)
        _, ax = plt.subplots(1, 2, figsize=(11, 3.8))
        xs = [int(k) for k in sizes]
        ax[0].loglog(xs, [sizes[k]["get_context"]["tps"] for k in sizes], "o-", label="get_context(50)")
        ax[0].loglog(xs, [sizes[k]["langchain_get"]["tps"] for k in sizes], "o-", label="langchain get_messages")
        ax[0].set_title("reads/s")
        if sizes[next(iter(sizes))].get("append_message"):
            ax[1].semilogx(xs, [sizes[k]["append_message"]["tps"] for k in sizes], "o-", label="append_message")
            ax[1].semilogx(xs, [sizes[k]["langchain_append"]["tps"] for k in sizes], "o-", label="langchain INSERT")
            ax[1].set_ylim(bottom=0)
            ax[1].set_title("appends/s")
        for a in ax:
            a.set_xlabel("messages in the session")
            a.legend()
        self.fig("context", "context")

    def chat_turns(self) -> None:
        t = self.r.get("chat_turns")
        if not t:
            return
        self.w("## Whole chat turns", "",
               "bench/pgbench/chat_turn.sql: get_or_create_session for the chat, append_message (user), "
               "get_context(50), append_message (assistant): four calls, each its own transaction, on random chats of "
               "1,000 users. What one server of this size sustains when the database is the only work on it.", "",
               "| pgbench clients | turns/s | messages/s | p50 ms per turn | p99 ms | WAL B/message "
               "| messages table growth |",
               "|---|---|---|---|---|---|---|")
        for k, v in t.items():
            self.w(f"| {k} | {v['tps']:.0f} | {2 * v['tps']:.0f} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | "
                   f"{v['wal_per_op']:.0f} | {fmt_bytes(v['heap_growth'] + v['index_growth'])} |")
        self.w("")

    def cleanup(self) -> None:
        c = self.r.get("cleanup")
        if not c:
            return
        b = c["baseline"]
        self.w("## Cleanup under a touch load", "",
               f"touch_session load (pgbench, {self.r['meta']['pgbench_clients']} clients, {c['chunk_seconds']} s "
               "chunks with per-transaction logs) while `CALL session_manager.run_cleanup_job()` (what the cron job "
               "runs: a COMMIT per batch of cleanup_batch_size) deactivates the idle sessions; the peers' prune "
               "statements (one DELETE each, as their code issues it) under their own touch load.", "",
               f"Without cleanup: {b['tps']:.0f} touches/s, p50 {b['p50_ms']:.2f} ms, p99 {b['p99_ms']:.2f} ms, "
               f"max {b['max_ms']:.1f} ms.", "",
               "| design | sessions | cleanup time | touches/s during | p50 ms | p99 ms | max ms | p99 without | "
               "p99 during / without |", "|---|---|---|---|---|---|---|---|---|")
        rows: list[tuple[str, str, dict[str, Any]]] = [("touch_session + run_cleanup_job", k, v)
                                                       for k, v in c["ours"].items()]
        rows += [("touch_session + one-scan cleanup (variant)", k, v) for k, v in c.get("one_scan", {}).items()]
        for p, d in c["peers"].items():
            rows += [(p, k, v) for k, v in d.items()]
        for name, _n, v in rows:
            base = v.get("baseline", b)
            d = v["during"]
            n_done = v["job"].get("deactivated", v["job"].get("deleted", 0))
            self.w(f"| {name} | {n_done:,} | {v['job']['seconds']:.1f} s | {d['tps']:.0f} | {d['p50_ms']:.2f} | "
                   f"{d['p99_ms']:.2f} | {d['max_ms']:.1f} | {base['p99_ms']:.2f} | "
                   f"{d['p99_ms'] / base['p99_ms']:.2f} |")
        self.w("")
        big = c["ours"].get("1000000")
        if big:
            self.target("touch p99 during a 1,000,000-session cleanup / without", big["during"]["p99_ms"] / b["p99_ms"],
                        2.0, "<=")
        else:
            self.target("touch p99 during a 1,000,000-session cleanup / without", None, 2.0, "<=")
        _, ax = plt.subplots(1, 2, figsize=(12, 3.8))
        for name, n, v in rows:
            ax[0].plot([p["t"] for p in v["series"]], [p["p99_ms"] for p in v["series"]], "o-", ms=3,
                       label=f"{name} {int(n):,}")
        ax[0].axhline(b["p99_ms"], color="grey", ls="--", lw=1, label="touch_session p99 without cleanup")
        ax[0].set_xlabel("s since cleanup started")
        ax[0].set_ylabel("touch p99 per chunk (ms)")
        ax[0].set_yscale("log")
        ax[0].legend(fontsize=6)
        short = {"touch_session + run_cleanup_job": "package", "touch_session + one-scan cleanup (variant)": "one-scan",
                 "connect-pg-simple": "connect-pg", "Spring Session JDBC": "Spring", "Django db sessions": "Django"}
        labels = [f"{short.get(r[0], r[0])}\n{int(r[1]) // 1000:,}k" for r in rows]
        xs = list(range(len(rows)))
        ax[1].bar(xs, [r[2]["job"]["seconds"] for r in rows])
        ax[1].set_xticks(xs, labels)
        ax[1].set_ylabel("seconds")
        ax[1].set_title("cleanup / prune time under load")
        ax[1].tick_params(axis="x", labelsize=6)
        self.fig("cleanup", "cleanup under load")

    def batch_sizes(self) -> None:
        bs = self.r.get("batch_sizes")
        if not bs:
            return
        self.w("## Choosing cleanup_batch_size", "",
               f"{bs['sessions']:,} idle sessions deactivated batch by batch, each batch "
               "`SELECT session_manager.deactivate_idle_batch(...)` in its own transaction (as run_cleanup_job "
               "does), under the touch load. A batch holds its row locks until its COMMIT, so the batch time is "
               "the longest a call that locks one of its rows (append_message, end_session, get_or_create_session "
               "on that chat) can wait behind it. touch_session itself never waits: its UPDATE requires a live "
               "row, and every row in a batch is idle, so it passes over them without waiting for the lock.", "",
               "| batch size | batches | batch time median | p90 | max | total | touch p99 during | touch max |",
               "|---|---|---|---|---|---|---|---|")
        ks = [k for k in bs if k not in ("sessions", "one_scan")]
        for k in ks:
            j, d = bs[k]["job"], bs[k]["during"]
            self.w(f"| {int(k):,} | {j['batches']} | {j['batch_ms_median']:.0f} ms | {j['batch_ms_p90']:.0f} ms | "
                   f"{j['batch_ms_max']:.0f} ms | {j['seconds']:.1f} s | {d['p99_ms']:.2f} ms | {d['max_ms']:.1f} ms |")
        one = bs.get("one_scan", {})
        if one:
            self.w("", "The same with the candidates found once per run (the one-scan design of "
                   "bench_variants.cleanup_one_scan: one query for the idle ids, then each batch an UPDATE by primary "
                   "key that re-checks the predicate and skips locked rows):", "",
                   "| batch size | batches | candidate scan | batch time median | p90 | max | total "
                   "| touch p99 during |",
                   "|---|---|---|---|---|---|---|---|")
            for k, v in one.items():
                j, d = v["job"], v["during"]
                self.w(f"| {int(k):,} | {j['batches']} | {j['scan_ms']:.0f} ms | {j['batch_ms_median']:.1f} ms | "
                       f"{j['batch_ms_p90']:.1f} ms | {j['batch_ms_max']:.1f} ms | {j['seconds']:.1f} s | "
                       f"{d['p99_ms']:.2f} ms |")
        self.w("")
        _, ax = plt.subplots(1, 2, figsize=(11, 3.6))
        xs = [int(k) for k in ks]
        ax[0].loglog(xs, [bs[k]["job"]["batch_ms_median"] for k in ks], "o-", label="median")
        ax[0].loglog(xs, [bs[k]["job"]["batch_ms_max"] for k in ks], "o-", label="max")
        if one:
            ox = [int(k) for k in one]
            ax[0].loglog(ox, [one[k]["job"]["batch_ms_median"] for k in one], "s--", label="one scan, median")
            ax[0].loglog(ox, [one[k]["job"]["batch_ms_max"] for k in one], "s--", label="one scan, max")
            ax[1].semilogx(ox, [one[k]["job"]["seconds"] for k in one], "s--", label="one scan")
        ax[0].set_title("one batch's lock time (ms)")
        ax[0].legend()
        ax[1].semilogx(xs, [bs[k]["job"]["seconds"] for k in ks], "o-", label="as deployed")
        ax[1].legend()
        ax[1].set_title(f"time to deactivate {bs['sessions']:,} (s)")
        ax[1].set_ylim(bottom=0)
        for a in ax:
            a.set_xlabel("cleanup_batch_size")
        self.fig("batch_sizes", "cleanup batch sizes")

    def growth(self) -> None:
        g = self.r.get("growth")
        if not g:
            self.target("touch throughput with 10M history / with 100k", None, 0.90)
            return
        cl = g["cleanup"]
        self.w("## Growth: 10,000,000 sessions of history", "",
               f"Two copies of the loaded database, one with {g['history']['big']:,} more inactive sessions "
               f"(sessions table {fmt_bytes(g['table_bytes']['big'])} against {fmt_bytes(g['table_bytes']['small'])}; "
               f"loaded in {g['load_seconds']:.0f} s). touch_session throughput, alternating between them:", "",
               "| pair | 100k history tps | 10M history tps | ratio |", "|---|---|---|---|")
        for i, (a, b) in enumerate(zip(g["tps_small"], g["tps_big"], strict=True)):
            self.w(f"| {i + 1} | {a:.0f} | {b:.0f} | {b / a:.3f} |")
        self.w("", f"Median ratio {g['median_ratio']:.3f}. Cleanup of 100,000 idle sessions (run_cleanup_job): "
               f"{cl['small']['seconds']:.1f} s with the small history, {cl['big']['seconds']:.1f} s with 10M. "
               "The plan of one cleanup batch with 10M of history:", "", "```",
               *cl["big"]["plan"], "```", "")
        if "empty_run_seconds" in cl["big"]:
            self.w("The every-minute job when there is nothing to clean (`CALL session_manager.run_cleanup_job()`): "
                   f"{cl['small']['empty_run_seconds'] * 1000:.0f} ms with the small history, "
                   f"{cl['big']['empty_run_seconds'] * 1000:.0f} ms with 10M; the one-scan design "
                   f"(bench_variants.cleanup_one_scan): {cl['small']['empty_run_one_scan_seconds'] * 1000:.0f} ms and "
                   f"{cl['big']['empty_run_one_scan_seconds'] * 1000:.0f} ms. Its candidate query with 10M of history:",
                   "", "```", *cl["big"]["one_scan_plan"], "```", "")
        self.target("touch throughput with 10M history / with 100k", g["median_ratio"], 0.90)
        _, ax = plt.subplots(1, 2, figsize=(10, 3.5))
        xs = range(1, len(g["tps_small"]) + 1)
        ax[0].plot(xs, g["tps_small"], "o-", label="100k history")
        ax[0].plot(xs, g["tps_big"], "o-", label="10M history")
        ax[0].set_ylim(bottom=0)
        ax[0].legend()
        ax[0].set_title("touch_session tps, alternating")
        ax[1].bar(["100k history", "10M history"], [cl["small"]["seconds"], cl["big"]["seconds"]])
        ax[1].set_title("cleanup of 100,000 idle sessions (s)")
        self.fig("growth", "growth")

    # -- issue 18: the last misses, side by side ---------------------------------------------------------
    def touch_ceiling(self) -> None:
        tc = self.r.get("touch_ceiling")
        if not tc:
            return
        same = tc.get("sessions_raw_tps")
        self.w("## touch_session at the function ceiling (bench/touch_limit.py `touch_ceiling`)", "",
               "The deployed touch_session against the raw UPDATE of the PK-only copy"
               + (" and against the same UPDATE of the sessions table itself (bench/pgbench/raw_update_sessions.sql: "
                  "its five indexes and its foreign keys, like with like for a function that updates that table)"
                  if same else "")
               + f": {len(tc['ratios'])} rounds of {tc['seconds']} s ({tc['clients']} pgbench clients), the order "
               "alternating, then each pair at once (2 clients each), then against the variant \"DEFINER, no SET, "
               "everything qualified, settings as constants\" (bench_variants.definer_qual_const) at once.", "")
        if same:
            self.w("| round | raw UPDATE (copy) tps | raw UPDATE (sessions table) tps | touch_session tps "
                   "| touch_session / copy | touch_session / sessions table | sessions table / copy |",
                   "|---|---|---|---|---|---|---|")
            for i, (a, c, b) in enumerate(zip(tc["raw_tps"], same, tc["touch_session_tps"], strict=True)):
                self.w(f"| {i + 1} | {a:.0f} | {c:.0f} | {b:.0f} | {b / a:.3f} | {b / c:.3f} | {c / a:.3f} |")
        else:
            self.w("| pair | raw UPDATE tps | touch_session tps | ratio |", "|---|---|---|---|")
            for i, (a, b) in enumerate(zip(tc["raw_tps"], tc["touch_session_tps"], strict=True)):
                self.w(f"| {i + 1} | {a:.0f} | {b:.0f} | {b / a:.3f} |")
        self.w("", f"Medians: touch_session / the copy's raw UPDATE **{tc['median_ratio']:.3f}**"
               + (f", / the sessions table's raw UPDATE **{tc['sessions_median_ratio']:.3f}**, the sessions table's "
                  f"raw UPDATE / the copy's **{tc['table_median_ratio']:.3f}**" if same else "")
               + ". At once: against the copy " + ", ".join(f"{x:.3f}" for x in tc["simultaneous"])
               + f" (median **{tc['simultaneous_median']:.3f}**)"
               + ("; against the sessions table " + ", ".join(f"{x:.3f}" for x in tc["sessions_simultaneous"])
                  + f" (median **{tc['sessions_simultaneous_median']:.3f}**)" if same else "")
               + "; touch_session / the constant variant " + ", ".join(f"{x:.3f}" for x in tc["vs_const_variant"])
               + f" (median **{tc['vs_const_variant_median']:.3f}**).", "")
        self.target("touch_session / raw UPDATE of the PK-only copy, alternating (touch_ceiling)",
                    tc["median_ratio"], 0.90)
        self.target("touch_session / raw UPDATE of the PK-only copy, at once (touch_ceiling)",
                    tc["simultaneous_median"], 0.90)
        if same:
            self.target("touch_session / raw UPDATE of the sessions table, alternating (touch_ceiling)",
                        tc["sessions_median_ratio"], 0.90)
            self.target("touch_session / raw UPDATE of the sessions table, at once (touch_ceiling)",
                        tc["sessions_simultaneous_median"], 0.90)

    def touch_instructions(self) -> None:
        ti = self.r.get("touch_instructions")
        if not ti or "statements" not in ti:
            return
        st = ti["statements"]
        self.w("## Where a touch's instructions go (bench/touch_instructions.py)", "",
               "valgrind's count (callgrind) of the instructions one call executes: a single-user backend on a copy "
               f"of the cluster runs `PREPARE p(text) AS ...` and then {ti['many']} and, in a second run, {ti['few']} "
               f"`EXECUTE p('<id>')` on distinct live sessions, each its own transaction; the difference over "
               f"{ti['many'] - ti['few']} is one call. Unlike throughput on this machine it does not move from run to "
               "run; it is not time (no cache misses, locks or network), so the pairs above stay the measure of the "
               "target. The single-user EXECUTE adds its own parse to every statement and, to a SELECT, the "
               "printing of its row (debugtup, below).", "",
               "| statement | what it is | instructions per call | compared with |", "|---|---|---|---|")
        for name, v in st.items():
            base = v.get("compared_with", "")
            more = f"{v['instructions'] - st[base]['instructions']:+,} over {base}" if base in st else ""
            self.w(f"| {name} | {v['what']} | {v['instructions']:,} | {more} |")
        parts = sorted({k for v in st.values() for k in v["parts"]})
        self.w("", "Inclusive counts of some of the server's functions, per call (one function contains the next "
               "ones: fmgr_security_definer > plpgsql_exec_function > SPI_execute_plan_with_paramlist > "
               "standard_ExecutorRun > ExecScan):", "",
               "| function | " + " | ".join(st) + " |", "|---" * (len(st) + 1) + "|")
        for k in parts:
            self.w(f"| {k} | " + " | ".join(f"{st[n]['parts'].get(k, 0):,}" for n in st) + " |")
        self.w("")

    def client_pairs(self) -> None:
        cp = self.r.get("client_pairs")
        if not cp:
            return
        self.w("## The client's own cost, like with like (bench/client.py `client_pairs`)", "",
               f"{cp['workers']} threads over a pool of {cp['connections']} against psycopg alone with "
               f"{cp['workers']} threads and a connection each; {cp['workers']} asyncio tasks over an "
               f"AsyncSessionManager pool of {cp['connections']} against {cp['workers']} tasks with an "
               f"AsyncConnection each. Alternating pairs of {cp['seconds']} s, each side its own process "
               "(bench/client_load.py), the client process and the server sharing the 2 CPUs.", "",
               "| pair | SessionManager /s | psycopg /s | ratio | AsyncSessionManager /s | psycopg async /s | ratio |",
               "|---|---|---|---|---|---|---|")
        for i, (a, b) in enumerate(zip(cp["sync"], cp["async"], strict=True)):
            self.w(f"| {i + 1} | {a['client']:.0f} | {a['psycopg']:.0f} | {a['ratio']:.3f} | {b['client']:.0f} | "
                   f"{b['psycopg']:.0f} | {b['ratio']:.3f} |")
        self.w("", f"Median ratios: sync **{cp['sync_median_ratio']:.3f}**, async **{cp['async_median_ratio']:.3f}**.",
               "")
        self.target("SessionManager / psycopg alone, same threads and connections", cp["sync_median_ratio"], 0.85)
        self.target("AsyncSessionManager / psycopg alone, same tasks and connections", cp["async_median_ratio"], 0.85)

    def cleanup_pacing(self) -> None:
        cp = self.r.get("cleanup_pacing")
        if not cp:
            return
        self.w("## Cleanup that yields (bench/cleanup.py `cleanup_pacing`)", "",
               f"{cp['sessions']:,} idle sessions deactivated by one `CALL session_manager.run_cleanup_job()` "
               "(time budget lifted so that one run does it all) under the touch load (pgbench, 4 clients, "
               f"{cp['chunk_seconds']} s chunks); touch p99 is the median of the chunks' p99, without cleanup "
               "measured right after each run.", "",
               "| cleanup_batch_size | cleanup_batch_pause | cleanup time | sessions/s | touch p99 during | "
               "p99 without | during / without | touches/s during / without |", "|---|---|---|---|---|---|---|---|")
        for x in cp["runs"]:
            self.w(f"| {x['batch_size']:,} | {x['pause_ms']} ms | {x['seconds']:.1f} s | "
                   f"{x['sessions_per_second']:.0f} | "
                   f"{x['p99_during_ms']:.2f} ms | {x['p99_without_ms']:.2f} ms | {x['p99_ratio']:.2f} | "
                   f"{x['tps_during']:.0f} / {x['tps_without']:.0f} |")
        self.w("")
        worst = max(x["p99_ratio"] for x in cp["runs"])
        self.target("touch p99 during cleanup / without, worst setting (cleanup_pacing)", worst, 2.0, "<=")

    def render(self) -> str:
        self.header()
        body_start = len(self.md)
        for section in (self.touch, self.touch_ceiling, self.touch_instructions, self.costs, self.wal_breakdown,
                        self.shapes, self.batches, self.client, self.client_pairs, self.throttling, self.context,
                        self.chat_turns, self.cleanup,
                        self.batch_sizes, self.cleanup_pacing, self.growth):
            section()
        body = self.md[body_start:]
        self.md = self.md[:body_start]
        self.targets_table()
        self.md += body
        secs = self.r.get("section_seconds", {})
        load = self.r.get("load_average", {})
        self.w("## Run time and machine load per section", "",
               "The 1-minute load average before and after each section (2 CPUs; above 2, something besides the "
               "benchmark was competing for them, which is why every comparison alternates its sides):", "",
               "| section | seconds | load average before / after |", "|---|---|---|")
        for k, v in secs.items():
            la = load.get(k, ["?", "?"])
            self.w(f"| {k} | {v:.0f} | {la[0]} / {la[1]} |")
        self.w("")
        return "\n".join(self.md) + "\n"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results" / "results.json"
    res = json.loads(path.read_text())
    rep = Report(res, path.parent)
    text = rep.render()
    (path.parent / "report.md").write_text(text)
    for name, _detail, value, goal, sense in rep.targets:
        if value is None:
            print(f"  target {name}: not measured")
            continue
        met = value >= goal if sense == ">=" else value <= goal
        print(f"  target {name}: {value:.2f} ({sense} {goal:g}) {'met' if met else 'NOT MET'}")
    print(f"report: {path.parent / 'report.md'}")


if __name__ == "__main__":
    main()
