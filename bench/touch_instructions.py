"""Where a touch's instructions go: valgrind's count of the instructions one call executes, for the raw
UPDATE, the same UPDATE on the sessions table, the bare PL/pgSQL functions and touch_session (and, by the
same method, append_message).

Throughput on two shared cores moves by 10-20 % from one run to the next, more than most of the
differences looked for here. An instruction count does not move: the same call on the same rows
executes the same instructions. It is not time (cache misses, locks and the network are not in it),
so the throughput pairs of touch_limit.py stay the measure of the target; this says where the cost is.

How: a copy of the cluster (pg_basebackup) is started as a single-user backend (`postgres --single`)
under callgrind, with the cluster's monitoring settings, and runs `PREPARE p(text) AS <statement>`
then `EXECUTE p('<id>')` on distinct live sessions, each EXECUTE its own transaction. A run of 600
minus a run of 100, over 500, is one call's count: start-up and shut-down cancel. Every run starts
from a fresh copy of the same files, so each statement meets the same rows. The single-user EXECUTE
adds the same parse and, for a SELECT, the printing of its row to every statement of its kind.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from harness import PG_BIN, SETTINGS, Bench, say
from pgcluster import as_server_user

FEW, MANY = 100, 600
# (name, statement, what it is, the statement it is compared with)
STATEMENTS = [
    ("raw_update", 'UPDATE bench.raw_sessions SET "lastActivity" = now() WHERE id = $1',
     "the raw UPDATE: a copy of the sessions with only its primary key (the throughput pairs' baseline)", ""),
    ("raw_update_sessions", 'UPDATE public."conversationSessions" SET "lastActivity" = now() WHERE id = $1',
     "the same UPDATE on the sessions table itself: its five indexes and its foreign keys", "raw_update"),
    ("select_only", "SELECT pg_catalog.length($1) > 0",
     "a SELECT returning one boolean: the statement around a function call, without the call", ""),
    ("invoker_bare", "SELECT bench_variants.invoker_bare($1)",
     "PL/pgSQL, SECURITY INVOKER, nothing but the UPDATE of the sessions table", "raw_update_sessions"),
    ("definer_bare", "SELECT bench_variants.definer_bare($1)", "the same, SECURITY DEFINER", "invoker_bare"),
    ("touch_session", "SELECT session_manager.touch_session($1)", "touch_session as deployed", "definer_bare"),
    ("check_on_miss", "SELECT bench_variants.check_on_miss($1)",
     "touch_session with its argument check moved to the miss path (bench/sql/variants.sql 1c)", "touch_session"),
    # The message path, by the same method: add_message_count's cost as a SQL function showed here (0.5.1).
    ("append_message", "SELECT m.message_id FROM session_manager.append_message($1, 'user', 'Quanto gastei?') m",
     "append_message: a message stored and counted, its session touched", ""),
]
# Inclusive counts of these functions of the server, per call: where the difference between two
# statements lies (names from the binary's dynamic symbols; static functions have none).
PARTS = ["ExecInitQual", "ExecScan", "ExecOpenIndices", "ExecCloseIndices", "ExecARUpdateTriggers",
         "heap_update", "SPI_execute_plan_with_paramlist", "plpgsql_exec_function", "fmgr_security_definer",
         "GetConfigOptionByName", "ExecInitExprWithParams", "CheckExprStillValid", "standard_ExecutorStart",
         "standard_ExecutorRun", "standard_ExecutorEnd", "CommitTransactionCommand", "debugtup"]


def _run(work: Path, pristine: Path, name: str, statement: str, calls: int, first_id: int) -> Path:
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(as_server_user(["cp", "-a", str(pristine), str(data)]), check=True)
    script = work / f"{name}.{calls}.sql"
    script.write_text(f"PREPARE p(text) AS {statement};\n"
                      + "".join(f"EXECUTE p('{first_id + i}');\n" for i in range(calls)))
    out = work / f"callgrind.{name}.{calls}"
    opts = ["-c", "shared_preload_libraries=pg_stat_statements"]
    for k in ("track_functions", "pg_stat_statements.track", "TimeZone"):
        opts += ["-c", f"{k}={SETTINGS[k].strip(chr(39))}"]
    with script.open() as stdin:
        subprocess.run(as_server_user(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                     str(PG_BIN / "postgres"), "--single", "-D", str(data), *opts, "bench"]),
                       stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return out


def _counts(profile: Path) -> tuple[int, dict[str, int]]:
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(profile)],
                          capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", text).group(1).replace(",", ""))  # type: ignore[union-attr]
    parts: dict[str, int] = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*?:?([A-Za-z_][A-Za-z0-9_]*)(?:'\d+)?\s", line + " ")
        if m and m.group(2) in PARTS and m.group(2) not in parts:  # the outermost frame of a recursion
            parts[m.group(2)] = int(m.group(1).replace(",", ""))
    return total, parts


def touch_instructions(b: Bench) -> None:
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        say("touch instructions: valgrind is not installed (bench/run.sh installs it); section skipped")
        b.results["touch_instructions"] = {"skipped": "valgrind not installed"}
        return
    # Vacuumed first, so that the count is of a touch on clean pages, not of the dead versions the
    # sections before left (they doubled the index scan's count in a first try).
    b.sql('VACUUM bench.raw_sessions, public."conversationSessions"')
    b.sql("CHECKPOINT")
    work = Path(tempfile.mkdtemp(prefix="smbench-vg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(work, "postgres", "postgres")
        pristine = work / "pristine"
        subprocess.run(as_server_user([str(PG_BIN / "pg_basebackup"), "-D", str(pristine), "-h", "127.0.0.1",
                                     "-p", str(b.cluster.port), "-U", "postgres", "-X", "stream"]),
                       check=True, stdout=subprocess.DEVNULL)
        say(f"touch instructions: callgrind, {MANY} - {FEW} EXECUTEs of each statement on a copy of the cluster")
        out: dict[str, Any] = {"few": FEW, "many": MANY, "statements": {}}
        for name, statement, what, base in STATEMENTS:
            t_few, p_few = _counts(_run(work, pristine, name, statement, FEW, 101))
            t_many, p_many = _counts(_run(work, pristine, name, statement, MANY, 101))
            per_call = (t_many - t_few) / (MANY - FEW)
            parts = {k: round((p_many.get(k, 0) - p_few.get(k, 0)) / (MANY - FEW)) for k in PARTS}
            out["statements"][name] = {"statement": statement, "what": what, "instructions": round(per_call),
                                       "compared_with": base,
                                       "parts": {k: v for k, v in parts.items() if v}}
            say(f"  {name}: {per_call:,.0f} instructions per call")
        b.results["touch_instructions"] = out
    finally:
        shutil.rmtree(work, ignore_errors=True)
