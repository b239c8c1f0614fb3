"""The exported monitoring with the real tools (issue 8), all on 127.0.0.1:

- Debian's prometheus-postgres-exporter 0.11 with monitoring/postgres_exporter/queries.yaml gives the same
  session_manager_* names and figures as the Python listener (`session-manager metrics --listen`);
- every panel of monitoring/grafana/dashboard.json queries metrics that a live scrape really has, and
  returns data from a real Prometheus;
- the status page loads in headless Chromium without a console message, showing the database's figures;
- a real Prometheus (Debian's) scraping both, with monitoring/prometheus/alerts.yml (each `for:` set to 0 so
  that a condition shows within seconds; promtool's tests in alerts_test.yml prove the durations), fires
  each alert when its condition is set up in the database, and stops when it is undone.

The module's database stands in for pg_cron's two tables with tables of the same columns in a schema
`cron` (pg_cron itself lives in the cluster's `chat` database), so that job runs and failures can be
written at once instead of waited for; cleanup_job_status() reads them exactly as it reads pg_cron's.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

prometheus_client = pytest.importorskip("prometheus_client")

from monitoring_export import (  # noqa: E402
    ALERTS,
    DASHBOARD,
    ROOT,
    Processes,
    create_monitor_login,
    dsn_as,
    http_get,
    parse_exposition,
    same,
    start_exporter,
    start_listener,
    value,
    wait_http,
)
from pgcluster import free_port  # noqa: E402
from session_manager import SessionManager  # noqa: E402
from session_manager.metrics import register  # noqa: E402

PROMETHEUS = Path("/usr/bin/prometheus")
EXPORTER = Path("/usr/bin/prometheus-postgres-exporter")
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (PROMETHEUS.exists() and EXPORTER.exists()),
                       reason="Debian's prometheus and prometheus-postgres-exporter (scripts/setup.sh)"),
]

# Only in the listener: whether its own read of the database succeeded (the exporter has pg_up).
LISTENER_ONLY = {"session_manager_up", "session_manager_scrape_errors_total"}


@dataclass
class Stack:
    db: str
    superuser: psycopg.Connection
    listener: str
    exporter: str
    app: str
    prometheus: str
    listener_role: str
    procs: Processes
    listener_proc: subprocess.Popen[bytes]
    exporter_proc: subprocess.Popen[bytes]


def _prepare(c: psycopg.Connection, dbname: str) -> None:
    c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    # pg_cron's two tables, as cleanup_job_status() reads them (their columns in pg_cron 1.4+).
    c.execute("""CREATE SCHEMA cron;
                 CREATE TABLE cron.job (jobid bigint PRIMARY KEY, jobname text, schedule text, active boolean);
                 CREATE TABLE cron.job_run_details (jobid bigint, runid bigint GENERATED ALWAYS AS IDENTITY,
                   start_time timestamptz, end_time timestamptz, status text, return_message text)""")
    c.execute("INSERT INTO cron.job VALUES (1, %s, '* * * * *', true)", (f"session_manager_cleanup_{dbname}",))
    run(c, "succeeded")
    # Ages grow while the test runs: start them far from their thresholds.
    c.execute("""UPDATE session_manager.settings SET health_cleanup_age_warning = '1 hour',
                   health_cleanup_age_critical = '2 hours', health_backlog_age_warning = '1 hour',
                   health_backlog_age_critical = '2 hours'""")
    c.execute("""INSERT INTO public."user" (id, email) SELECT 'mt' || i, 'mt' || i || '@example.com'
                 FROM generate_series(1, 5) AS i""")
    for i in range(8):
        sid = c.execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'max', %s)",
                        (f"mt{i % 5 + 1}", f"c{i}")).fetchone()
        assert sid is not None
        c.execute("SELECT session_manager.append_message(%s, 'user', 'oi')", (sid[0],))
    c.execute("SELECT session_manager.cleanup_old_sessions()")
    add_idle(c, 3)
    c.execute("SELECT pg_stat_force_next_flush()")


def run(c: psycopg.Connection, status: str) -> None:
    """One run of the job in the stand-in for cron.job_run_details."""
    c.execute("""INSERT INTO cron.job_run_details (jobid, start_time, end_time, status, return_message)
                 VALUES (1, now(), now(), %s, %s)""",
              (status, "1 row" if status == "succeeded" else "ERROR: canceling statement due to lock timeout"))


def add_idle(c: psycopg.Connection, n: int) -> None:
    """n active sessions idle just past the 30-minute timeout (the backlog), not yet cleaned."""
    c.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity")
                 SELECT 'idle-' || gen_random_uuid(), 'mt1', 'geral', now() - interval '30 minutes 10 seconds'
                 FROM generate_series(1, %s)""", (n,))


def prometheus_config(directory: Path, targets: dict[str, str]) -> Path:
    """alerts.yml with every `for:` set to 0s, and a config scraping `targets` every second (YAML is JSON)."""
    rules = directory / "alerts.yml"
    rules.write_text(re.sub(r"(?m)^(\s+for:) \S+$", r"\1 0s", ALERTS.read_text()))
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target]}]}
                           for job, target in targets.items()],
    }
    path = directory / "prometheus.yml"
    path.write_text(json.dumps(config, indent=2))
    subprocess.run(["/usr/bin/promtool", "check", "config", str(path)], check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def stack(db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("monitoring_export")
    procs = Processes(directory)
    superuser = psycopg.connect(db, autocommit=True)
    dbname = superuser.info.dbname
    _prepare(superuser, dbname)
    roles = [create_monitor_login(superuser), create_monitor_login(superuser)]
    # The application: its own process would register its manager the same way.
    app = SessionManager(db, min_size=1, max_size=2, name="app")
    app_server = None
    try:
        listener_base = start_listener(procs, dsn_as(db, roles[0]))
        listener_proc = procs.started[-1]
        exporter = start_exporter(procs, dsn_as(db, roles[1]))
        exporter_proc = procs.started[-1]
        registry = prometheus_client.CollectorRegistry()
        register(app, registry)
        app_server, _ = prometheus_client.start_http_server(0, addr="127.0.0.1", registry=registry)
        app_url = f"http://127.0.0.1:{app_server.server_port}/metrics"
        for _ in range(3):
            app.get_context("no-such-session")
            app.touch_session("no-such-session")
        port = free_port()
        config = prometheus_config(directory, {
            "session_manager": listener_base.removeprefix("http://"),
            "session_manager_postgres": exporter.removeprefix("http://").removesuffix("/metrics"),
            "app": app_url.removeprefix("http://").removesuffix("/metrics"),
        })
        prom = procs.start("prometheus", [str(PROMETHEUS), f"--config.file={config}",
                                          f"--storage.tsdb.path={directory / 'tsdb'}",
                                          f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/-/ready", prom, timeout=60)
        yield Stack(db, superuser, listener_base, exporter, app_url, base, roles[0], procs, listener_proc,
                    exporter_proc)
    finally:
        procs.stop_all()
        if app_server is not None:
            app_server.shutdown()
        app.close()
        for role in roles:
            superuser.execute(f"DROP ROLE IF EXISTS {role}")
        superuser.close()


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = http_get(url)
    assert status == 200, text
    return parse_exposition(text)


def query(stack: Stack, expr: str) -> list[dict[str, Any]]:
    status, body = http_get(stack.prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    answer = json.loads(body)
    assert status == 200 and answer["status"] == "success", (expr, body)
    return list(answer["data"]["result"])


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.25)


def wait_for_data(stack: Stack) -> None:
    """Both exporters and the application scraped, with at least a few samples each."""
    wait_for("three targets up", lambda: len([r for r in query(stack, "up == 1")]) == 3)
    wait_for("health checks from both exporters for 3 s", lambda: len(
        query(stack, 'count_over_time(session_manager_health_status{check="idle_backlog"}[1m]) >= 3')) == 2)


# --- The same figures from both exporters -------------------------------------------------------------------

def test_the_exporter_and_the_listener_give_the_same_names_and_figures(stack: Stack) -> None:
    listener = scrape(stack.listener + "/metrics")
    exporter = scrape(stack.exporter)
    ours = {n for n, _ in listener if n.startswith("session_manager_") and not n.startswith("session_manager_client_")}
    theirs = {n for n, _ in exporter if n.startswith("session_manager_")}
    assert ours - LISTENER_ONLY == theirs
    assert value(listener, "session_manager_up") == 1 and value(exporter, "pg_up") == 1

    def without_server(samples: dict[Any, float], name: str) -> dict[tuple[tuple[str, str], ...], float]:
        return {tuple(kv for kv in ls if kv[0] != "server"): v for (n, ls), v in samples.items() if n == name}

    # Figures that the scrapes themselves do not move (they call health_check(), which counts in
    # function_stats, and read the tables, which moves nothing else here).
    for name in ("session_manager_sessions", "session_manager_table_bytes", "session_manager_health_status",
                 "session_manager_cleanup_job_info", "session_manager_cleanup_runs_total",
                 "session_manager_cleanup_deactivated_sessions_total", "session_manager_cleanup_purged_sessions_total",
                 "session_manager_cleanup_last_success_timestamp_seconds",
                 "session_manager_cleanup_job_consecutive_failures", "session_manager_messages_stored",
                 "session_manager_idle_timeout_seconds", "session_manager_table_live_tuples"):
        a, b = without_server(listener, name), without_server(exporter, name)
        assert a.keys() == b.keys(), name
        assert all(same(a[k], b[k], rel=1e-6) for k in a), (name, a, b)
    for fn in ("append_message", "get_or_create_session", "cleanup_old_sessions"):
        assert value(listener, "session_manager_function_calls_total", function=fn) == value(
            exporter, "session_manager_function_calls_total", function=fn), fn

    exact = stack.superuser.execute("""SELECT count(*) FILTER (WHERE "lastActivity" >= now() - interval '30 minutes'),
                                              count(*) FILTER (WHERE "lastActivity" < now() - interval '30 minutes')
                                       FROM public."conversationSessions" WHERE "isActive" """).fetchone()
    assert exact is not None
    assert (value(exporter, "session_manager_sessions", state="live"),
            value(exporter, "session_manager_sessions", state="idle")) == exact
    assert value(exporter, "session_manager_cleanup_job_info", state="scheduled") == 1


# --- The dashboard ----------------------------------------------------------------------------------------

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                "offset", "le", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers outside {...} and [...], not functions or keywords."""
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", expr)
    bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", bare)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", bare):
        rest = bare[m.end():].lstrip()
        if rest.startswith("(") or m.group().lower() in PROMQL_WORDS or bare[m.start() - 1:m.start()] == "$":
            continue
        names.add(m.group())
    return names


def dashboard_exprs() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in board["panels"] if p.get("type") != "row" for t in p["targets"]]


def test_the_metric_name_parser_reads_promql() -> None:
    assert metric_names('histogram_quantile(0.99, sum by (le, method) (rate(a_bucket{x="y"}[$__rate_interval])))'
                        ) == {"a_bucket"}
    assert metric_names("time() - max(b{instance=~\"$instance\"}) / on (job) c") == {"b", "c"}


def test_every_dashboard_panel_queries_metrics_a_live_scrape_has_and_returns_data(stack: Stack) -> None:
    wait_for_data(stack)
    emitted = {n for url in (stack.listener + "/metrics", stack.exporter, stack.app) for n, _ in scrape(url)}
    emitted.add("up")  # Prometheus's own, per target
    exprs = dashboard_exprs()
    assert len(exprs) >= 20
    for title, expr in exprs:
        missing = metric_names(expr) - emitted
        assert not missing, f"panel {title!r} queries {missing}, which no exporter emits"
        concrete = expr.replace("$__rate_interval", "15s").replace("$instance", ".*")
        assert query(stack, concrete), f"panel {title!r}: no data for {concrete}"


# --- The status page in Chromium --------------------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0", "--window-size=1280,1500"]


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium (scripts/setup.sh)")
def test_the_status_page_shows_the_database_in_chromium_without_console_messages(
        stack: Stack, tmp_path: Path) -> None:
    # The check sees console messages at all: a page that logs one is caught.
    control = chromium(tmp_path / "p0", "--dump-dom", 'data:text/html,<script>console.error("seen")</script>')
    assert any('"seen"' in line for line in console_messages(control.stderr)), control.stderr[-2000:]

    # A few latency samples (every second) with calls between them, for the chart.
    stack.superuser.execute("SELECT session_manager.touch_session(id) FROM public.\"conversationSessions\"")
    time.sleep(2.5)
    page = chromium(tmp_path / "p1", "--dump-dom", stack.listener + "/")
    assert page.returncode == 0, page.stderr[-2000:]
    assert console_messages(page.stderr) == []
    dom = page.stdout
    s = scrape(stack.listener + "/metrics")
    for key, state in (("sessions-live", "live"), ("sessions-idle", "idle")):
        assert re.search(rf'id="{key}">{int(value(s, "session_manager_sessions", state=state))}<', dom), key
    for check in ("cleanup_age", "idle_backlog", "pg_cron", "pg_stat_statements"):
        assert f'id="check-{check}"' in dom
    assert dom.count("<svg") == 3 and 'id="chart-latency"' in dom
    assert not re.search(r'(src|href)="(?!data:)', dom), "the page loads nothing"

    shot = Path(os.environ.get("SESSION_MANAGER_SCREENSHOT", tmp_path / "status-page.png"))
    done = chromium(tmp_path / "p2", f"--screenshot={shot.resolve()}", stack.listener + "/")
    assert done.returncode == 0 and shot.stat().st_size > 10_000, done.stderr[-2000:]
    assert console_messages(done.stderr) == []


# --- The alerts in a real Prometheus ----------------------------------------------------------------------

BOTH = ("session_manager", "session_manager_postgres")


def firing(stack: Stack) -> set[tuple[str, str, str]]:
    """(alertname, severity, job) of every firing alert."""
    status, body = http_get(stack.prometheus + "/api/v1/alerts")
    assert status == 200
    return {(a["labels"]["alertname"], a["labels"].get("severity", ""), a["labels"].get("job", ""))
            for a in json.loads(body)["data"]["alerts"] if a["state"] == "firing"}


def test_each_alert_fires_on_its_condition_and_not_otherwise(stack: Stack) -> None:
    c = stack.superuser
    wait_for_data(stack)
    time.sleep(3)
    assert firing(stack) == set(), "all is well: no alert"
    persistent: set[tuple[str, str, str]] = set()

    def step(name: str, do: Callable[[], None], expect: set[tuple[str, str, str]],
             undo: Callable[[], None] | None) -> None:
        do()
        wait_for(f"{name} fires", lambda: expect <= firing(stack))
        time.sleep(2)  # a few more evaluations: nothing else joins in
        assert firing(stack) - persistent == expect, name
        if undo is None:
            persistent.update(expect)
            return
        undo()
        wait_for(f"{name} stops", lambda: not (expect & firing(stack)))

    def settings(assignments: str) -> Callable[[], None]:
        return lambda: c.execute(f"UPDATE session_manager.settings SET {assignments}")  # type: ignore[arg-type]

    def both(alert: str, severity: str) -> set[tuple[str, str, str]]:
        return {(alert, severity, job) for job in BOTH}

    step("idle backlog above its warning", settings("health_backlog_warning = 1"),
         both("SessionManagerIdleBacklogHigh", "warning"), settings("health_backlog_warning = DEFAULT"))
    step("idle backlog above its critical", settings("health_backlog_warning = 1, health_backlog_critical = 2"),
         both("SessionManagerIdleBacklogHigh", "critical"),
         settings("health_backlog_warning = DEFAULT, health_backlog_critical = DEFAULT"))
    step("idle backlog not drained", settings("health_backlog_age_warning = '1 second'"),
         both("SessionManagerIdleBacklogNotDraining", "warning"), settings("health_backlog_age_warning = '1 hour'"))
    step("cleanup late", settings("health_cleanup_age_warning = '1 second'"),
         both("SessionManagerCleanupNotRunning", "warning"), settings("health_cleanup_age_warning = '1 hour'"))
    step("cleanup very late", settings("health_cleanup_age_warning = '1 second', health_cleanup_age_critical = '2s'"),
         both("SessionManagerCleanupNotRunning", "critical"),
         settings("health_cleanup_age_warning = '1 hour', health_cleanup_age_critical = '2 hours'"))
    step("the job's last run failed", lambda: run(c, "failed"),
         both("SessionManagerCleanupFailing", "warning"), lambda: run(c, "succeeded"))
    def three_failures() -> None:
        for _ in range(3):
            run(c, "failed")

    step("the job's last three runs failed", three_failures,
         both("SessionManagerCleanupFailing", "critical"), lambda: run(c, "succeeded"))
    step("the job is unscheduled", lambda: c.execute("UPDATE cron.job SET active = false"),
         both("SessionManagerPgCronMissing", "critical"), lambda: c.execute("UPDATE cron.job SET active = true"))
    step("pg_stat_statements dropped", lambda: c.execute("DROP EXTENSION pg_stat_statements"),
         both("SessionManagerPgStatStatementsMissing", "info"),
         lambda: c.execute("CREATE EXTENSION pg_stat_statements"))

    def bloat() -> None:
        # Past autovacuum's trigger (0 by the table's reloptions, autovacuum kept off so that it does
        # not clear the condition), and overdue at once (health_vacuum_overdue_warning 0).
        c.execute("""ALTER TABLE public."conversationSessions" SET (autovacuum_enabled = false,
                       autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0)""")
        c.execute("""UPDATE session_manager.settings SET health_dead_tuples_min = 1,
                       health_vacuum_overdue_warning = '0', health_vacuum_overdue_critical = '100 years'""")
        c.execute('UPDATE public."conversationSessions" SET title = title')  # every row leaves a dead version
        c.execute("SELECT pg_stat_force_next_flush()")
        c.execute("SELECT 1")

    def unbloat() -> None:
        c.execute("UPDATE session_manager.settings SET health_dead_tuples_min = DEFAULT, "
                  "health_vacuum_overdue_warning = DEFAULT, health_vacuum_overdue_critical = DEFAULT")
        c.execute("""ALTER TABLE public."conversationSessions"
                       RESET (autovacuum_enabled, autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor)""")

    step("dead tuples", bloat, both("SessionManagerDeadTuplesHigh", "warning"), unbloat)
    step("the listener's login lost the monitor role",
         lambda: c.execute(f"REVOKE session_manager_monitor FROM {stack.listener_role}"),
         {("SessionManagerDatabaseUnreachable", "critical", "session_manager")},
         lambda: c.execute(f"GRANT session_manager_monitor TO {stack.listener_role}"))

    def slow_touches() -> None:
        # Each touch waits ~1 s for the row lock another transaction holds: that wait is in its time. Three
        # such among the fast touches of the last 5 minutes (a few dozen at most) put the mean above 50 ms.
        with psycopg.connect(stack.db, autocommit=True) as toucher:
            for _ in range(3):
                with psycopg.connect(stack.db) as holder:
                    row = holder.execute("""SELECT id FROM public."conversationSessions"
                                            WHERE "isActive" AND "lastActivity" >= now() - interval '30 minutes'
                                            ORDER BY id LIMIT 1 FOR UPDATE""").fetchone()
                    assert row is not None
                    t = threading.Thread(target=toucher.execute,
                                         args=("SELECT session_manager.touch_session(%s)", (row[0],)))
                    t.start()
                    time.sleep(1.0)
                    holder.commit()
                    t.join()
            toucher.execute("SELECT pg_stat_force_next_flush()")
            toucher.execute("SELECT 1")

    # Cumulative since the reset, the database's own touch check goes critical too: the catch-all alert.
    step("touches slow", slow_touches,
         both("SessionManagerTouchSlow", "critical") | both("SessionManagerHealthCheckDegraded", "warning"), None)

    def grow() -> None:
        for _ in range(6):
            add_idle(c, 2)
            time.sleep(1)

    step("the backlog grows", grow, both("SessionManagerIdleBacklogGrowing", "warning"), None)
    step("the exporter is down", lambda: Processes.stop(stack.exporter_proc),
         {("SessionManagerTargetDown", "critical", "session_manager_postgres")}, None)
    step("the listener is down too", lambda: Processes.stop(stack.listener_proc),
         {("SessionManagerTargetDown", "critical", "session_manager"), ("SessionManagerMetricsAbsent", "critical", "")},
         None)


def test_the_promtool_rule_tests_pass() -> None:
    rules = ROOT / "monitoring" / "prometheus"
    checked = subprocess.run(["/usr/bin/promtool", "check", "rules", str(rules / "alerts.yml")],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    tested = subprocess.run(["/usr/bin/promtool", "test", "rules", "alerts_test.yml"], cwd=rules,
                            capture_output=True, text=True, check=False)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
