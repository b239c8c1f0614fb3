"""The `session-manager` command, run as a user runs it (a subprocess of the installed script)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from session_manager import SessionManager
from session_manager.cli import sqitch_target

pytest_plugins = ["client_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = next((str(p) for p in (ROOT / ".venv" / "bin" / "session-manager",
                                Path(sys.executable).parent / "session-manager") if p.exists()),
              shutil.which("session-manager") or "session-manager")
COMMANDS = ["status", "health", "cleanup", "info", "sessions", "context", "touch", "end", "settings", "version",
            "deploy", "verify", "revert"]


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, env={**environment, **(env or {})},
                          timeout=timeout, check=False)


def ok(*args: str) -> str:
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("session-manager: error: ")
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# --- Help and usage -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(command: str | None) -> None:
    out = ok(*([command] if command else []), "--help")
    assert out.startswith("usage: session-manager")
    assert "--dsn" in out and "--connect-timeout" in out


def test_a_usage_error_is_one_line_with_exit_status_2() -> None:
    proc = cli("statu")
    assert_one_line_error(proc, "invalid choice")
    assert proc.returncode == 2
    assert_one_line_error(cli("context", "--dsn", "x", "-n", "many"), "invalid int value")


@pytest.mark.parametrize("args", [("cleanup", "--dsn", "x", "--idle-timeout", "nan"),
                                  ("--connect-timeout", "inf", "status", "--dsn", "x"),
                                  ("cleanup", "--dsn", "x", "--idle-timeout", "soon")])
def test_a_number_that_is_not_finite_is_a_usage_error(args: tuple[str, ...]) -> None:
    # float() takes 'nan' and 'inf'; they failed later with a Python exception's name and exit 1.
    proc = cli(*args)
    assert_one_line_error(proc, "number")
    assert proc.returncode == 2


# --- Failures: one line, non-zero, never a traceback ------------------------------------------------------

def test_no_dsn_is_one_line_error() -> None:
    assert_one_line_error(cli("status"), "DATABASE_URL")


@pytest.mark.parametrize("dsn", ["host=localhost port=5432 = nonsense", "postgresql://[::1", "not a dsn at all"])
def test_a_bad_dsn_is_one_line_error(dsn: str) -> None:
    assert_one_line_error(cli("status", "--dsn", dsn))


def test_a_closed_port_is_one_line_error(closed_port: int) -> None:
    assert_one_line_error(cli("version", "--dsn", f"postgresql://postgres@127.0.0.1:{closed_port}/chat"), "refused")


def test_an_unresponsive_server_fails_within_the_connect_timeout(blackhole_port: int) -> None:
    started = time.perf_counter()
    proc = cli("--connect-timeout", "2", "status", "--dsn", f"postgresql://postgres@127.0.0.1:{blackhole_port}/x")
    assert_one_line_error(proc, "timeout")
    assert time.perf_counter() - started < 6


def test_a_server_error_is_one_line_with_its_message(db: str) -> None:
    assert_one_line_error(cli("context", "--dsn", db, "some-session", "-n", "0"), "max_messages", "hint:")


def test_a_database_without_the_package_is_one_line_error(server: object) -> None:
    assert_one_line_error(cli("version", "--dsn", server.dsn("postgres")))  # type: ignore[attr-defined]


# --- The commands -------------------------------------------------------------------------------------------

def test_version_prints_the_package_version_from_database_url(db: str, package_version: str) -> None:
    proc = cli("version", env={"DATABASE_URL": db})
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, package_version + "\n", "")


def test_options_may_come_before_the_command(db: str, package_version: str) -> None:
    assert ok("--dsn", db, "--connect-timeout", "5", "version").strip() == package_version


def test_verbose_logs_each_call_on_stderr(db: str) -> None:
    proc = cli("-v", "version", "--dsn", db)
    assert proc.returncode == 0
    assert "session_manager: DEBUG: version: ok in" in proc.stderr


def test_a_reader_leaving_early_is_not_an_error(db: str, sessions: SessionManager,
                                                new_user: Callable[[], str]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    for i in range(600):  # 150 kB of output: more than a pipe holds, so the writer meets the closed pipe
        sessions.append_message(s.session_id, "user", f"line {i} " + "x" * 250)
    reader = subprocess.Popen([SCRIPT, "context", s.session_id, "-n", "600", "--dsn", db],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline().endswith("line 0 " + "x" * 250 + "\n")
    reader.stdout.close()
    reader.wait(30)
    assert "Traceback" not in reader.stderr.read()


def test_status_shows_sessions_by_state_and_the_cleanup_job(db: str, sessions: SessionManager,
                                                            new_user: Callable[[], str],
                                                            make_idle: Callable[[str], None]) -> None:
    sessions.cleanup_old_sessions()
    before = sessions.session_stats()
    user = new_user()
    sessions.get_or_create_session(user, "geral")
    make_idle(sessions.get_or_create_session(user, "geral").session_id)
    out = ok("status", "--dsn", db)
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines["live"][1] == str(before.live_sessions + 1)
    assert lines["idle"][1] == str(before.idle_backlog + 1)
    assert lines["active"][1] == str(before.active_sessions + 2)
    assert "Cleanup job:" in out and "unknown" in out  # pg_cron's tables live in another database
    data = json.loads(ok("status", "--dsn", db, "--json"))
    assert data["sessions"]["live_sessions"] == before.live_sessions + 1
    assert data["cleanup_job"]["job_state"] == "unknown"


def test_status_in_pg_crons_database_shows_the_scheduled_job(server: object, cron_db: str) -> None:
    out = ok("status", "--dsn", server.dsn(cron_db))  # type: ignore[attr-defined]
    assert f"session_manager_cleanup_{cron_db}" in out and "* * * * *" in out and "scheduled" in out


def test_health_prints_every_check_and_fails_in_one_line_unless_all_ok(db: str) -> None:
    proc = cli("health", "--dsn", db)
    assert proc.stdout.splitlines()[0].split() == ["check", "status", "value", "threshold", "detail"]
    assert "cleanup_age" in proc.stdout
    if proc.returncode == 0:
        assert proc.stderr == "" and all(line.split()[1] == "ok" for line in proc.stdout.splitlines()[2:])
    else:
        assert_one_line_error(proc, "health: ")
    assert {c["check_name"] for c in json.loads(cli("health", "--json", "--dsn", db).stdout)} >= {"cleanup_age"}


def test_status_and_health_work_for_the_monitoring_role(db: str, login_role: Callable[..., str],
                                                        as_role: Callable[[str, str], str]) -> None:
    dsn = as_role(db, login_role("session_manager_monitor"))
    assert "live" in ok("status", "--dsn", dsn)
    assert "cleanup_age" in cli("health", "--dsn", dsn).stdout
    assert_one_line_error(cli("info", "some-session", "--dsn", dsn), "permission denied")


def test_cleanup_prints_how_many_sessions_it_deactivated(db: str, sessions: SessionManager,
                                                         new_user: Callable[[], str],
                                                         conn: psycopg.Connection) -> None:
    ok("cleanup", "--dsn", db)
    s = sessions.get_or_create_session(new_user(), "geral")
    conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '3 minutes'
                    WHERE id = %s""", (s.session_id,))
    assert ok("cleanup", "--dsn", db).strip() == "0"
    assert ok("cleanup", "--dsn", db, "--idle-timeout", "2").strip() == "1"
    assert_one_line_error(cli("cleanup", "--dsn", db, "--idle-timeout", "0"))


def test_info_sessions_context_touch_and_end(db: str, sessions: SessionManager,
                                             new_user: Callable[[], str]) -> None:
    user = new_user()
    s = sessions.get_or_create_session(user, "financeiro", chat_id="cli-chat")
    sessions.append_message(s.session_id, "user", "primeira")
    sessions.append_message(s.session_id, "assistant", "segunda\nlinha")

    info = ok("info", s.session_id, "--dsn", db)
    assert f"session_id     {s.session_id}" in info and "message_count  2" in info
    assert json.loads(ok("info", s.session_id, "--dsn", db, "--json"))["chat_id"] == "cli-chat"
    assert_one_line_error(cli("info", "no-such-session", "--dsn", db), "not found")

    listed = ok("sessions", user, "--dsn", db)
    assert s.session_id in listed and "financeiro" in listed and listed.splitlines()[0].startswith("session_id")

    context = ok("context", s.session_id, "--dsn", db).splitlines()
    assert context[0].endswith("] user: primeira") and context[1].endswith("] assistant: segunda")
    assert ok("context", s.session_id, "-n", "1", "--dsn", db).endswith("assistant: segunda\nlinha\n")
    assert [m["role"] for m in json.loads(ok("context", s.session_id, "--json", "--dsn", db))] == ["user", "assistant"]

    assert ok("touch", s.session_id, "unknown", "--dsn", db).strip() == "1"
    assert ok("end", s.session_id, "--dsn", db).strip() == "ended"
    assert_one_line_error(cli("end", s.session_id, "--dsn", db), "already inactive")
    assert s.session_id not in ok("sessions", user, "--dsn", db)
    assert s.session_id in ok("sessions", user, "--all", "--dsn", db)


def test_settings_lists_every_setting(db: str) -> None:
    out = ok("settings", "--dsn", db)
    assert "idle_timeout" in out and "00:30:00" in out and "max_content_length" in out
    assert json.loads(ok("settings", "--json", "--dsn", db))["context_messages"] == "50"


def test_verify_wraps_sqitch_passing_its_arguments(db: str) -> None:
    if shutil.which("sqitch") is None:
        pytest.skip("sqitch is not installed")
    # The template was deployed without scheduling: verify needs the same variable.
    assert "Verify successful" in ok("verify", "--dsn", db, "--", "--set", "schedule=off")
    proc = cli("deploy", "--dsn", db, "--", "--no-such-option")  # sqitch's own failure, in one line
    assert_one_line_error(proc, "sqitch deploy failed", "no-such-option")


def test_sqitch_target_accepts_uris_and_key_value_dsns() -> None:
    assert sqitch_target("postgresql://app@db:5433/chat") == "db:pg://app@db:5433/chat"
    assert sqitch_target("host=db port=5433 dbname=chat user=app password=p@ss sslmode=require") == \
        "db:pg://app:p%40ss@db:5433/chat?sslmode=require"
