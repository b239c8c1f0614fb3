"""``session-manager metrics --listen``: Prometheus's ``/metrics`` and a status page at ``/``, from one process.

The page is for whoever is paged and has no Grafana at hand: the health checks, the session figures,
the cleanup job, the tables, and three charts of the last hour drawn server-side as inline SVG (no
script, no external resource: it renders the same offline, in a terminal browser or a screenshot):

- sessions deactivated by each cleanup run, and each run's duration, from ``session_manager.cleanup_history``
  (the database's own record, so the chart is complete the moment the listener starts);
- the mean time per call of the package's busiest functions, per sampling interval, from the differences
  of ``session_manager.function_stats`` (cumulative counters: the listener samples them every
  ``sample_interval`` seconds and keeps an hour, so this chart fills in as the listener runs).

It reads only the package's monitoring views and functions: a login that is a member of
``session_manager_monitor`` and nothing else suffices.
"""
from __future__ import annotations

import html
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from .errors import SessionManagerError
from .manager import SessionManager
from .metrics import (
    CleanupRun,
    DatabaseCollector,
    FunctionTiming,
    Metrics,
    read_cleanup_runs,
    read_function_timings,
)

__all__ = ["LatencySampler", "StatusServer", "parse_listen", "render_page", "svg_chart"]

logger = logging.getLogger("session_manager.status_page")

HOUR = 3600.0
# Functions whose latency the chart draws: the calls of the application's hot path and the cleanup.
CHARTED_FUNCTIONS = ("touch_session", "touch_sessions", "append_message", "get_context", "get_or_create_session",
                     "cleanup_old_sessions", "run_cleanup_job", "end_session", "get_session_info",
                     "list_user_sessions")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")


def parse_listen(value: str) -> tuple[str, int]:
    """'HOST:PORT', ':PORT' (127.0.0.1) or 'PORT' -> (host, port). IPv6 hosts in brackets: '[::1]:9188'."""
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = "", value
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen wants HOST:PORT, got {value!r}")
    return host, int(port)


# --- The latency samples -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Sample:
    at: datetime
    functions: dict[str, tuple[int, float]]  # name -> (calls, total seconds), cumulative


class LatencySampler:
    """Samples function_stats every `interval` seconds into an hour-long ring, in a daemon thread."""

    def __init__(self, manager: SessionManager, interval: float = 15.0) -> None:
        self._manager = manager
        self.interval = interval
        self._samples: deque[Sample] = deque(maxlen=int(HOUR / interval) + 2)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started_at = datetime.now(timezone.utc)

    def sample(self) -> None:
        try:
            at, timings = read_function_timings(self._manager)
        except SessionManagerError as exc:
            logger.warning("latency sample failed: %s", exc)
            return
        self.add(at, timings)

    def add(self, at: datetime, timings: Sequence[FunctionTiming]) -> None:
        with self._lock:
            self._samples.append(Sample(at, {t.function: (t.calls, t.total_seconds) for t in timings}))

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.sample()
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, name="session-manager-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def series(self, now: datetime) -> dict[str, list[tuple[float, float]]]:
        """Per function: (seconds before `now`, mean ms per call in the interval ending then), last hour only.
        Intervals with no call are left out; a statistics reset (counts going down) too."""
        with self._lock:
            samples = list(self._samples)
        out: dict[str, list[tuple[float, float]]] = {}
        for prev, cur in itertools.pairwise(samples):
            ago = (now - cur.at).total_seconds()
            if ago > HOUR:
                continue
            for name, (calls, total) in cur.functions.items():
                before = prev.functions.get(name, (0, 0.0))
                dc, dt = calls - before[0], total - before[1]
                if dc > 0 and dt >= 0:
                    out.setdefault(name, []).append((ago, dt / dc * 1000))
        return out


# --- SVG -----------------------------------------------------------------------------------------------------

def _nice_max(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return float(step * exponent)
    return float(10 * exponent)


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.3g}"
    return f"{value:.2g}"


def svg_chart(title: str, series: dict[str, list[tuple[float, float]]], *, unit: str, bars: bool = False,
              log: bool = False, width: int = 560, height: int = 200, element_id: str = "") -> str:
    """A chart of the last hour: x is seconds before now (3600 .. 0), one polyline (or bars) per series,
    then an HTML legend when there is more than one series. `log`: a logarithmic y axis by decades (for
    latencies that span orders of magnitude); values <= 0 are left out of it."""
    left, right, top, bottom = 56, 12, 24, 28
    w, h = width - left - right, height - top - bottom
    points = [p for s in series.values() for p in s if not log or p[1] > 0]
    values = [v for _, v in points]
    if log and values:
        lo = math.floor(math.log10(min(values)))
        hi = max(math.ceil(math.log10(max(values))), lo + 1)
        ticks = [10.0 ** e for e in range(lo, hi + 1)]

        def y(value: float) -> float:
            return top + h * (1 - (math.log10(value) - lo) / (hi - lo))
    else:
        ymax = _nice_max(max(values, default=0.0))
        ticks = [ymax * i / 4 for i in range(5)]

        def y(value: float) -> float:
            return top + h * (1 - min(value, ymax) / ymax)

    def x(ago: float) -> float:
        return left + w * (1 - min(max(ago, 0.0), HOUR) / HOUR)

    scale = ", log scale" if log and values else ""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"' + (f' id="{element_id}"' if element_id else "") + ">",
             f"<title>{html.escape(title)}</title>",
             f'<text x="{left}" y="15" class="ct">{html.escape(title)} ({html.escape(unit)}{scale})</text>']
    for v in ticks:
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" class="yl">{_fmt(v)}</text>')
    for minutes in (60, 45, 30, 15, 0):
        parts.append(f'<text x="{x(minutes * 60):.1f}" y="{height - 8}" class="xl">'
                     f'{"now" if minutes == 0 else f"-{minutes} min"}</text>')
    if not points:
        parts.append(f'<text x="{left + w / 2}" y="{top + h / 2}" class="empty">no data in the last hour</text>')
    for n, (name, unsorted) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        pts = sorted((p for p in unsorted if not log or p[1] > 0), key=lambda p: -p[0])
        if bars:
            for ago, v in pts:
                parts.append(f'<rect x="{x(ago) - 2:.1f}" y="{y(v):.1f}" width="4" height="{top + h - y(v):.1f}" '
                             f'fill="{color}"><title>{_fmt(v)} {html.escape(unit)}, '
                             f'{ago / 60:.1f} min ago</title></rect>')
        else:
            coords = " ".join(f"{x(a):.1f},{y(v):.1f}" for a, v in pts)
            if len(pts) > 1:
                parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="1.5"/>')
            for a, v in pts:
                parts.append(f'<circle cx="{x(a):.1f}" cy="{y(v):.1f}" r="2" fill="{color}">'
                             f'<title>{html.escape(name)}: {_fmt(v)} {html.escape(unit)}</title></circle>')
    parts.append("</svg>")
    if len(series) > 1:
        parts.append('<div class="legend">' + "".join(
            f'<span><i style="background:{PALETTE[n % len(PALETTE)]}"></i>{html.escape(name)}</span>'
            for n, name in enumerate(series)) + "</div>")
    return "".join(parts)


# --- The page ------------------------------------------------------------------------------------------------

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}header .sub{color:#b8c0d0}
main{padding:16px 24px;display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:16px}
.legend{font-size:12px;display:flex;flex-wrap:wrap;gap:4px 14px;margin:0 0 8px 56px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 16px}
h2{font-size:15px;margin:0 0 8px}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:3px 8px 3px 0;border-bottom:1px solid #eef0f4;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:0 8px;border-radius:9px;font-weight:600;font-size:12px}
.ok{background:#d8f3dc;color:#1b5e20}.warning{background:#fff3cd;color:#7a5a00}.critical{background:#f8d7da;color:#842029}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid #eef0f4;border-radius:6px;padding:6px 12px;min-width:110px}
.card .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}.card .k{color:#5b6475;font-size:12px}
.detail{color:#5b6475;font-size:12px}.error{background:#f8d7da;color:#842029;padding:12px 24px}
svg .grid{stroke:#eef0f4}svg .yl{font-size:10px;text-anchor:end;fill:#5b6475}
svg .xl{font-size:10px;text-anchor:middle;fill:#5b6475}svg .ct{font-size:12px;font-weight:600;fill:#1d2330}
svg .empty{font-size:12px;text-anchor:middle;fill:#8a93a5}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    ago = (now - value).total_seconds()
    return f"{value.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC ({_ago(ago)})"


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _value(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


def _card(key: str, value: object, label: str) -> str:
    return f'<div class="card"><div class="v" id="{key}">{_e(value)}</div><div class="k">{_e(label)}</div></div>'


def render_page(m: Metrics | None, runs: Sequence[CleanupRun], latency: dict[str, list[tuple[float, float]]],
                *, error: str | None = None, sampler_since: datetime | None = None, refresh: int = 30) -> str:
    """The status page's HTML: everything inline, nothing fetched by the browser."""
    head = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" '
            f'content="{refresh}"><link rel="icon" href="data:,"><title>session-manager status</title>'
            f"<style>{STYLE}</style></head><body>")
    if m is None:
        return (head + '<header><h1>session-manager</h1></header><div class="error" id="error">'
                f"The database did not answer: {_e(error)}</div></body></html>")
    now = m.collected_at
    worst = m.worst_status
    s = m.sessions
    out = [head, f'<header><h1>session-manager · {_e(m.database)}</h1><span class="badge {worst}" id="overall">'
                 f"{worst}</span><span class='sub'>read {now.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC · "
                 f"refreshes every {refresh} s</span></header>"]
    if error:
        out.append(f'<div class="error">{_e(error)}</div>')
    out.append("<main>")
    rows = "".join(
        f'<tr id="check-{_e(c.check_name)}"><td>{_e(c.check_name)}</td><td><span class="badge {_e(c.status)}">'
        f'{_e(c.status)}</span></td><td class="n">{_value(c.value)}</td><td class="n">{_value(c.threshold)}</td>'
        f'<td class="detail">{_e(c.detail)}</td></tr>' for c in m.health)
    out.append('<section><h2>Health checks</h2><table><tr><th>check</th><th>status</th><th class="n">value</th>'
               f'<th class="n">threshold</th><th>detail</th></tr>{rows}</table></section>')
    out.append("<section><h2>Sessions</h2><div class='cards'>"
               + _card("sessions-live", s.live_sessions, "live")
               + _card("sessions-idle", s.idle_backlog, "idle past the timeout, not yet cleaned")
               + _card("sessions-inactive", f"~{s.inactive_sessions_estimate}", "inactive (estimate)")
               + _card("messages-stored", f"~{s.messages_estimate}", "messages (estimate)")
               + _card("created-last-hour", s.created_last_hour, "created in the last hour")
               + _card("deactivated-last-hour", s.deactivated_last_hour, "deactivated in the last hour")
               + "</div><p class='detail'>idle_timeout "
               + _e(timedelta(seconds=s.idle_timeout_seconds))
               + (f"; the oldest idle session is {_e(timedelta(seconds=round(s.idle_backlog_oldest_seconds)))} "
                  "past it" if s.idle_backlog else "")
               + f"; {s.cleanup_runs_last_hour} cleanup runs in the last hour.</p></section>")
    j, c = m.cleanup_job, m.cleanup
    job_rows = [("state", j.job_state + (" (pg_cron lives in another database)" if j.job_state == "unknown" else "")),
                ("job", j.job_name), ("schedule", j.job_schedule),
                ("last run", "never" if j.last_run_started_at is None
                 else f"{j.last_run_status} · {_when(j.last_run_started_at, now)}"),
                ("last failure", _when(j.last_failure_at, now) + (f": {j.last_failure_message}"
                                                                   if j.last_failure_message else "")),
                ("failures in a row", j.consecutive_failures),
                ("last cleanup of all users", _when(c.last_success_at, now)
                 + ("" if c.last_duration_seconds is None
                    else f", {c.last_deactivated} deactivated in {c.last_duration_seconds * 1000:.1f} ms"))]
    out.append("<section><h2>Cleanup job</h2><table>" + "".join(
        f"<tr><th>{_e(k)}</th><td>{_e('' if v is None else v)}</td></tr>" for k, v in job_rows) + "</table></section>")
    deactivated = {"deactivated": [((now - r.finished_at).total_seconds(), float(r.deactivated)) for r in runs]}
    durations = {"duration": [((now - r.finished_at).total_seconds(), r.duration_seconds * 1000) for r in runs]}
    out.append("<section><h2>Cleanup runs, last hour</h2>"
               + svg_chart("Sessions deactivated per run", deactivated, unit="sessions", bars=True,
                           element_id="chart-cleanup-deactivated")
               + svg_chart("Duration of each run", durations, unit="ms", element_id="chart-cleanup-duration")
               + f"<p class='detail'>{len(runs)} committed runs from session_manager.cleanup_history.</p></section>")
    busiest = sorted((k for k in latency if k in CHARTED_FUNCTIONS), key=lambda k: (-len(latency[k]), k))[:5]
    since = "" if sampler_since is None else f" (sampled since {sampler_since.astimezone(timezone.utc):%H:%M:%S} UTC)"
    fn_rows = "".join(
        f'<tr id="function-{_e(f.function)}"><td>{_e(f.function)}</td><td class="n">{f.calls}</td>'
        f'<td class="n">{"" if f.mean_seconds is None else f"{f.mean_seconds * 1000:.4f}"}</td></tr>'
        for f in sorted(m.functions, key=lambda f: -f.calls) if f.function in CHARTED_FUNCTIONS)
    out.append("<section><h2>Call latencies, last hour</h2>"
               + svg_chart("Mean time per call inside the server", {k: latency[k] for k in busiest}, unit="ms",
                           log=True, element_id="chart-latency")
               + f"<p class='detail'>From session_manager.function_stats{_e(since)}.</p>"
               + '<table><tr><th>function</th><th class="n">calls</th><th class="n">mean ms (since reset)</th></tr>'
               + fn_rows + "</table></section>")
    t_rows = "".join(
        f'<tr id="table-{_e(t.table)}"><td title="{_e(t.schema)}.{_e(t.table)}">{_e(t.table)}</td>'
        f'<td class="n">{_bytes(t.heap_bytes)}</td>'
        f'<td class="n">{_bytes(t.index_bytes)}</td><td class="n">{_bytes(t.toast_bytes)}</td>'
        f'<td class="n">{t.live_tuples}</td><td class="n">{t.dead_tuples}</td>'
        f'<td class="n">{"" if t.hot_update_ratio is None else f"{t.hot_update_ratio:.0%}"}</td></tr>'
        for t in m.tables)
    out.append('<section><h2>Storage</h2><table><tr><th>table</th><th class="n">heap</th><th class="n">indexes</th>'
               '<th class="n">TOAST</th><th class="n">live</th><th class="n">dead</th><th class="n">HOT</th></tr>'
               + t_rows + "</table></section>")
    out.append("</main></body></html>")
    return "".join(out)


# --- The server ----------------------------------------------------------------------------------------------

class StatusServer:
    """A threading HTTP server: ``/metrics`` (Prometheus), ``/`` (the status page), ``/healthz`` (200 once up)."""

    def __init__(self, manager: SessionManager, host: str = "127.0.0.1", port: int = 9188,
                 sample_interval: float = 15.0) -> None:
        self.manager = manager
        self.registry = CollectorRegistry(auto_describe=False)
        self.database = DatabaseCollector(manager)
        # Only the database's figures: the listener's own pool is not the application's (whose process
        # publishes session_manager_client_* with metrics.register), and would be summed with it.
        self.registry.register(self.database)
        self.sampler = LatencySampler(manager, sample_interval)
        self.httpd = ThreadingHTTPServer((host, port), self._handler())
        self.httpd.daemon_threads = True

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def page(self) -> str:
        snapshot = self.database.read()
        runs: list[CleanupRun] = []
        error = self.database.last_error
        if snapshot is not None:
            try:
                runs = read_cleanup_runs(self.manager)
            except SessionManagerError as exc:
                error = f"cleanup history: {exc}"
        now = snapshot.collected_at if snapshot is not None else datetime.now(timezone.utc)
        return render_page(snapshot, runs, self.sampler.series(now), error=error, sampler_since=self.sampler.started_at)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "session-manager"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(server.registry))
                elif path == "/":
                    self._send(200, "text/html; charset=utf-8", server.page().encode())
                elif path == "/healthz":
                    self._send(200, "text/plain; charset=utf-8", b"ok\n")
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found: try / or /metrics\n")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("%s %s", self.address_string(), format % args)

        return Handler

    def serve_forever(self) -> None:
        self.sampler.start()
        try:
            self.httpd.serve_forever()
        finally:
            self.sampler.stop()
            self.httpd.server_close()

    def start(self) -> threading.Thread:
        """Serve in a daemon thread (for tests and embedding); stop with shutdown()."""
        thread = threading.Thread(target=self.serve_forever, name="session-manager-listener", daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        self.httpd.shutdown()
        time.sleep(0)
