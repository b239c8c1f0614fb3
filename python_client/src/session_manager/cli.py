"""``session-manager``: the package's functions from a shell, for a DBA or a developer.

Every command takes ``--dsn`` (or reads ``DATABASE_URL``). Any failure is reported as exactly one line on
stderr, ``session-manager: error: ...``, with a non-zero exit status (1; 2 for a usage error), never a
traceback. ``-v`` logs every call (and psycopg_pool's connection attempts) on stderr.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict

from . import __version__
from .errors import SessionManagerError
from .manager import SessionManager
from .models import SessionInfo

PROG = "session-manager"


class CommandError(Exception):
    """A failure the command reports as its one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the contract's "exactly one line on stderr".
        self.exit(2, f"{PROG}: error: {message} (see {self.prog} --help)\n")



def _finite(text: str) -> float:
    """argparse's type for seconds and minutes: a finite number (float() takes 'nan' and 'inf')."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value

def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- Output ------------------------------------------------------------------------------------------------

def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i in right else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _json(value: Any) -> str:
    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return dataclasses.asdict(v)
        return str(v)

    return json.dumps(value, default=plain, ensure_ascii=False, indent=2)


def _session_rows(infos: Sequence[SessionInfo]) -> str:
    return _table(["session_id", "chat_id", "agent", "live", "last_activity", "messages"],
                  [(s.session_id, s.chat_id, s.agent_id, "yes" if s.is_active else "no",
                    s.last_activity.isoformat(sep=" ", timespec="seconds"), s.message_count) for s in infos],
                  right=[5])


# --- Commands ----------------------------------------------------------------------------------------------

def _when(value: datetime | None) -> str:
    return "never" if value is None else value.isoformat(sep=" ", timespec="seconds")


def cmd_status(m: SessionManager, args: argparse.Namespace) -> None:
    stats = m.session_stats()
    job = m.cleanup_job_status()
    if args.json:
        print(_json({"sessions": stats, "cleanup_job": job}))
        return
    print(f"Sessions (idle_timeout {timedelta(seconds=stats.idle_timeout_seconds)}):")
    oldest = timedelta(seconds=round(stats.idle_backlog_oldest_seconds))
    print(_table(["state", "sessions", "meaning"], [
        ("active", stats.active_sessions, "isActive: live + idle"),
        ("live", stats.live_sessions, "active, used within idle_timeout"),
        ("idle", stats.idle_backlog, "active but idle past idle_timeout, not yet cleaned up"
                                     + (f" (oldest {oldest} past it)" if stats.idle_backlog else "")),
        ("inactive", f"~{stats.inactive_sessions_estimate}", "ended or cleaned up (estimate from statistics)"),
    ], right=[1]))
    print(f"Last hour: {stats.created_last_hour} created, {stats.deactivated_last_hour} deactivated and "
          f"{stats.purged_last_hour} purged by {stats.cleanup_runs_last_hour} cleanup runs; "
          f"~{stats.messages_estimate} messages stored.")
    print()
    print("Cleanup job:")
    rows: list[tuple[str, object]] = [("state", job.job_state)]
    if job.job_state == "unknown":
        rows[0] = ("state", "unknown (pg_cron lives in another database: cron.database_name)")
    if job.job_id is not None:
        rows += [("job", f"{job.job_name} (id {job.job_id})"), ("schedule", job.job_schedule),
                 ("last run", "never" if job.last_run_started_at is None
                  else f"{job.last_run_status} at {_when(job.last_run_started_at)}"),
                 ("last success", _when(job.last_success_at)),
                 ("last failure", _when(job.last_failure_at) + (f": {_one_line(job.last_failure_message)}"
                                                                if job.last_failure_message else "")),
                 ("failures in a row", job.consecutive_failures)]
    print(_table(["field", "value"], rows))


def cmd_health(m: SessionManager, args: argparse.Namespace) -> None:
    checks = m.health_check()
    if args.json:
        print(_json(checks))
    else:
        print(_table(["check", "status", "value", "threshold", "detail"],
                     [(c.check_name, c.status, _figure(c.value), _figure(c.threshold), c.detail) for c in checks]))
    bad = [c for c in checks if c.status != "ok"]
    if bad:
        worst = "critical" if any(c.status == "critical" for c in bad) else "warning"
        raise CommandError(f"health: {worst}: " + ", ".join(f"{c.check_name} {c.status}" for c in bad))


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def cmd_cleanup(m: SessionManager, args: argparse.Namespace) -> None:
    timeout = None if args.idle_timeout is None else timedelta(minutes=args.idle_timeout)
    print(m.cleanup_old_sessions(timeout))


def cmd_info(m: SessionManager, args: argparse.Namespace) -> None:
    info = m.get_session_info(args.session_id)
    if info is None:
        raise CommandError(f"session {args.session_id!r} not found")
    if args.json:
        print(_json(info))
        return
    for f in dataclasses.fields(info):
        print(f"{f.name:<14} {getattr(info, f.name)}")


def cmd_sessions(m: SessionManager, args: argparse.Namespace) -> None:
    infos = m.list_user_sessions(args.user_id, include_inactive=args.all)
    print(_json(infos) if args.json else _session_rows(infos))


def cmd_context(m: SessionManager, args: argparse.Namespace) -> None:
    messages = m.get_context(args.session_id, max_messages=args.n)
    if args.json:
        print(_json(messages))
        return
    for msg in messages:
        print(f"[{msg.created_at.isoformat(sep=' ', timespec='seconds')}] {msg.role}: {msg.content}")


def cmd_touch(m: SessionManager, args: argparse.Namespace) -> None:
    print(m.touch_sessions(args.session_ids))


def cmd_end(m: SessionManager, args: argparse.Namespace) -> None:
    if not m.end_session(args.session_id):
        raise CommandError(f"session {args.session_id!r} is unknown or already inactive")
    print("ended")


def cmd_settings(m: SessionManager, args: argparse.Namespace) -> None:
    settings = m.get_settings()
    rows = [(name, "NULL" if value is None else value) for name, value in settings.items()]
    print(_json(settings) if args.json else _table(["setting", "value"], rows))


def cmd_version(m: SessionManager, args: argparse.Namespace) -> None:
    print(m.version())


def run_metrics(dsn: str, args: argparse.Namespace) -> None:
    """`metrics`: the Prometheus exposition once, or with --listen a server of /metrics and the status page.

    Its own manager: the listener must start (and report session_manager_up 0) while the database is down,
    and serve a scrape and a page at once."""
    try:
        from .metrics import exposition, read_metrics  # noqa: PLC0415  (the optional extra)
        from .status_page import StatusServer, parse_listen  # noqa: PLC0415
    except ImportError as exc:
        raise CommandError(f"{exc.name} is missing: pip install 'session_manager[metrics]'") from exc
    if args.listen is None:
        with SessionManager(dsn, min_size=1, max_size=1, timeout=args.connect_timeout,
                            connect_timeout=args.connect_timeout, name=PROG) as m:
            sys.stdout.write(exposition(read_metrics(m)).decode())
        return
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if args.sample_interval <= 0:
        raise CommandError("--sample-interval must be positive")
    # Not opened here: the first scrape connects, and a scrape after an outage reconnects.
    m = SessionManager(dsn, min_size=0, max_size=2, timeout=args.connect_timeout,
                       connect_timeout=args.connect_timeout, name=PROG)
    try:
        server = StatusServer(m, host, port, sample_interval=args.sample_interval)
    except OSError as exc:
        m.close()
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = server.address
    print(f"{PROG}: serving http://{bound[0]}:{bound[1]}/ (status page) and /metrics; Ctrl-C stops",
          file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # a service manager's stop ends it like Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        m.close()


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# --- sqitch wrappers ---------------------------------------------------------------------------------------

def project_dir() -> Path:
    """The sqitch project this client deploys: the copy built into the wheel (session_manager/sqitch), else,
    from a checkout (an editable install), the repository above this source file. Never the current directory:
    another project's sqitch.plan there is not this package."""
    here = Path(__file__).resolve().parent
    for d in (here / "sqitch", *here.parents):
        plan = d / "sqitch.plan"
        if plan.is_file() and "\n%project=pg-session-manager\n" in plan.read_text(encoding="utf-8"):
            return d
    raise CommandError(f"the sqitch project is missing from {here / 'sqitch'}: reinstall the package from its wheel")


def sqitch_target(dsn: str) -> str:
    """A sqitch target (db:pg:...) for a libpq URI or key=value DSN."""
    if dsn.startswith(("postgresql://", "postgres://")):
        return "db:pg://" + dsn.split("://", 1)[1]
    params = conninfo_to_dict(dsn)
    user = quote(str(params.pop("user", "")), safe="")
    password = params.pop("password", None)
    auth = user + (":" + quote(str(password), safe="") if password is not None else "")
    host = str(params.pop("host", ""))
    port = params.pop("port", None)
    netloc = (auth + "@" if auth else "") + host + (f":{port}" if port else "")
    dbname = quote(str(params.pop("dbname", "")), safe="")
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
    return f"db:pg://{netloc}/{dbname}" + (f"?{query}" if query else "")


def _sqitch() -> str:
    sqitch = shutil.which("sqitch")
    if sqitch is None:
        raise CommandError("the sqitch command is not on PATH: install sqitch (Debian/Ubuntu: apt-get install sqitch; "
                           "elsewhere: https://sqitch.org/download/), with psql")
    return sqitch


def _sqitch_failure(verb: str, proc: subprocess.CompletedProcess[str]) -> CommandError:
    # The one error line names what failed: sqitch's (or psql's) error, else its last word, and the first
    # failing change of its report.
    said = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in said if any(w in line.lower() for w in ("error", "unknown option", "fatal"))]
    failing = [line.strip() for line in proc.stdout.splitlines() if "failed" in line or "not ok" in line]
    reason = "; ".join(dict.fromkeys([*(errors[:1] or said[-1:]), *failing[:1]])) or f"exit {proc.returncode}"
    return CommandError(f"sqitch {verb} failed: " + _one_line(reason))


def run_sqitch(verb: str, dsn: str, extra: Sequence[str]) -> None:
    root = project_dir()
    sqitch = _sqitch()
    extra = [a for a in extra if a != "--"]
    proc = subprocess.run([sqitch, verb, *extra, sqitch_target(dsn)], cwd=root, capture_output=True, text=True,
                          check=False)
    sys.stdout.write(proc.stdout)  # sqitch's report, as it prints it
    if proc.returncode != 0:
        raise _sqitch_failure(verb, proc)


def write_bundle(dest: str) -> None:
    """`deploy --print-bundle DIR`: `sqitch bundle` of this package's project into DIR, for a DBA to review and
    deploy with sqitch alone (every script carries what it runs: nothing outside the bundle is read)."""
    target = Path(dest).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CommandError(f"{dest} exists and is not an empty directory: give a new one")
    proc = subprocess.run([_sqitch(), "bundle", "--dest-dir", str(target)], cwd=project_dir(),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise _sqitch_failure("bundle", proc)
    scripts = sum(1 for _ in target.rglob("*.sql"))
    print(f"{target}: sqitch.plan, sqitch.conf and {scripts} scripts; deploy with: cd {target} && "
          "sqitch deploy db:pg://USER@HOST/DB")


# --- Parsing and running -----------------------------------------------------------------------------------

Command = Callable[[SessionManager, argparse.Namespace], None]


def build_parser() -> argparse.ArgumentParser:
    def common(p: argparse.ArgumentParser, top: bool) -> None:
        # On the main parser and on each command, so they go before or after the command name.
        default: Any = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
        p.add_argument("--dsn", default=default(None),
                       help="libpq connection string or URI (default: $DATABASE_URL)")
        p.add_argument("--connect-timeout", type=_finite, metavar="SECONDS", default=default(10.0),
                       help="give up connecting after this many seconds (default: 10)")
        p.add_argument("-v", "--verbose", action="store_true", default=default(False),
                       help="log every call and connection attempt on stderr")

    parser = _Parser(prog=PROG, description="Inspect and maintain pg-session-manager's sessions.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__} (client)")
    common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, func: Command | None, help_text: str, json_output: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        common(p, top=False)
        if json_output:
            p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        p.set_defaults(func=func, json=False)
        return p

    command("status", cmd_status, "sessions by state (live, idle, inactive) and the pg_cron cleanup job",
            json_output=True)
    command("health", cmd_health, "the package's health checks; exits 1 (one line on stderr) unless all are ok",
            json_output=True)
    p = command("cleanup", cmd_cleanup, "deactivate idle sessions once and print how many")
    p.add_argument("--idle-timeout", type=_finite, metavar="MINUTES",
                   help="idle longer than this (default: the setting idle_timeout)")
    p = command("info", cmd_info, "show one session", json_output=True)
    p.add_argument("session_id")
    p = command("sessions", cmd_sessions, "list a user's sessions, most recently active first", json_output=True)
    p.add_argument("user_id")
    p.add_argument("--all", action="store_true", help="include inactive sessions")
    p = command("context", cmd_context, "print a session's last messages, oldest first", json_output=True)
    p.add_argument("session_id")
    p.add_argument("-n", type=int, metavar="N", help="how many (default: the setting context_messages)")
    p = command("touch", cmd_touch, "mark sessions as used now; prints how many were live")
    p.add_argument("session_ids", nargs="+", metavar="SESSION_ID")
    p = command("end", cmd_end, "end a session (fails if unknown or already inactive)")
    p.add_argument("session_id")
    command("settings", cmd_settings, "show the package's settings", json_output=True)
    command("version", cmd_version, "print the package version deployed in the database")
    p = command("metrics", None, "print the Prometheus metrics; with --listen, serve /metrics and a status page")
    p.add_argument("--listen", metavar="HOST:PORT", nargs="?", const="127.0.0.1:9188",
                   help="serve instead of printing (alone: 127.0.0.1:9188; 0.0.0.0:PORT only if you mean it)")
    p.add_argument("--sample-interval", type=_finite, metavar="SECONDS", default=15.0,
                   help="how often the status page samples function timings (default: 15)")
    for verb in ("deploy", "verify", "revert"):
        p = command(verb, None, f"sqitch {verb} of the package's schema (the sqitch project installed with it)")
        if verb == "deploy":
            p.add_argument("--print-bundle", metavar="DIR",
                           help="write the sqitch bundle (plan, conf, scripts) into DIR for review; deploys nothing")
        p.add_argument("sqitch_args", nargs=argparse.REMAINDER, help="passed to sqitch, e.g. --set schedule=off")
    return parser


def _configure_logging(verbose: bool) -> None:
    root = logging.getLogger()
    if verbose:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s: %(levelname)s: %(message)s")
    else:
        # psycopg_pool logs each failed connection attempt as a warning: quiet, the one error line says it.
        root.addHandler(logging.NullHandler())


def run(args: argparse.Namespace) -> None:
    if getattr(args, "print_bundle", None) is not None:
        if args.sqitch_args:
            raise CommandError("--print-bundle writes files only: it takes no sqitch arguments")
        write_bundle(args.print_bundle)
        return
    dsn = args.dsn if args.dsn is not None else os.environ.get("DATABASE_URL")
    if not dsn:
        raise CommandError("no database: pass --dsn or set DATABASE_URL")
    if args.connect_timeout <= 0:
        raise CommandError("--connect-timeout must be positive")
    if args.command == "metrics":
        run_metrics(dsn, args)
        return
    if args.func is None:
        run_sqitch(args.command, dsn, args.sqitch_args)
        return
    with SessionManager(dsn, min_size=1, max_size=1, timeout=args.connect_timeout,
                        connect_timeout=args.connect_timeout, name=PROG) as m:
        args.func(m, args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `session-manager context X | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (CommandError, SessionManagerError) as exc:
        print(f"{PROG}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except Exception as exc:  # the promise: one line, never a traceback
        print(f"{PROG}: error: {type(exc).__name__}: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
