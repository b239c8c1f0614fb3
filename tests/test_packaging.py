"""The package as it ships: a `sqitch bundle` a DBA deploys, and a wheel installed with pip.

Both on a brownfield database (the application's tables with rows): deploy, verify, revert, deploy again,
the application's columns of every row compared by count and checksum after each step. The bundle also
upgrades a database deployed by the 0.4.1 release's own scripts (the last release whose scripts included a
file `sqitch bundle` does not copy) and deploys tag by tag; the wheel is installed into a fresh virtual
environment and run from an empty directory, far from the checkout.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import psycopg
import pytest

from conftest import ROOT, Server

SESSIONS = 3_000
APP_CHECKSUM = """
SELECT count(*), sum(hashtextextended(row(id, "userId", agent, title, "createdAt", "updatedAt")::text, 0)::numeric)
FROM public."conversationSessions"
UNION ALL
SELECT count(*), sum(hashtextextended(row(id, email, name, "createdAt")::text, 0)::numeric) FROM public."user"
"""
SQITCH_ENV = {**os.environ, "SQITCH_FULLNAME": "pg-session-manager tests", "SQITCH_EMAIL": "tests@localhost"}
BLOCK = re.compile(r"^-- >>> lock_with_retries.*?^-- <<< lock_with_retries$", re.M | re.S)


def sqitch(cwd: Path, verb: str, target: str, *args: str) -> str:
    proc = subprocess.run(["sqitch", verb, *args, target], cwd=cwd, env=SQITCH_ENV, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, f"sqitch {verb} {' '.join(args)} in {cwd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def app_rows(dsn: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(APP_CHECKSUM).fetchall()  # type: ignore[arg-type]


def package_present(dsn: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("""SELECT to_regnamespace('session_manager') IS NOT NULL
                                     OR EXISTS (SELECT FROM pg_attribute
                                                WHERE attrelid = 'public."conversationSessions"'::regclass
                                                  AND attname = 'lastActivity' AND NOT attisdropped)""").fetchone()
    return bool(row and row[0])


def tags() -> list[str]:
    return re.findall(r"^(@v[\d.]+) ", (ROOT / "sqitch.plan").read_text(), re.M)


@pytest.fixture()
def brownfield(server: Server, request: pytest.FixtureRequest) -> tuple[str, list[tuple[object, ...]]]:
    dbname = "sm_pack_" + request.node.name[5:35].lower()
    server.create_app_database(dbname, seed_sessions=SESSIONS)
    dsn = server.dsn(dbname)
    before = app_rows(dsn)
    assert before[0][0] == SESSIONS
    request.addfinalizer(lambda: server.drop(dbname))
    return dbname, before


def test_every_script_carries_what_it_runs() -> None:
    """`sqitch bundle` copies the plan's scripts and nothing else: no script may include another file, and the
    lock-retry block each locking script carries is the same everywhere."""
    scripts = sorted(p for d in ("deploy", "revert", "verify") for p in (ROOT / d).rglob("*.sql"))
    including = [str(p.relative_to(ROOT)) for p in scripts
                 if re.search(r"^\s*\\(i|ir|include|include_relative)\s", p.read_text(), re.M)]
    assert including == []
    blocks = {str(p.relative_to(ROOT)): BLOCK.findall(p.read_text()) for p in scripts}
    blocks = {k: v for k, v in blocks.items() if v}
    locking = {f"{d}/{name}.sql" for d in ("deploy", "revert")
               for name in ("session_columns", "last_activity_backfill", "messages", "row_level_security")}
    assert locking <= set(blocks), sorted(locking - set(blocks))  # later changes may carry it too
    copies = [b for v in blocks.values() for b in v]
    assert len(set(copies)) == 1, "the lock_with_retries blocks differ: " + ", ".join(sorted(blocks))
    # The Citus changes carry their shared blocks (citus_mode, citus_views_save, citus_views_restore) likewise.
    named: dict[str, set[str]] = {}
    for p in scripts:
        for m in re.finditer(r"^-- >>> (\w+).*?^-- <<< \1$", p.read_text(), re.M | re.S):
            named.setdefault(m.group(1), set()).add(m.group(0))
    shared = {"citus_mode", "citus_views_save", "citus_views_restore", "sessions_distributed"}
    assert shared <= set(named), sorted(named)
    assert [n for n, c in named.items() if len(c) != 1] == []


def test_bundle_verifies_and_reverts_a_041_database_then_deploys_tag_by_tag(
        server: Server, brownfield: tuple[str, list[tuple[object, ...]]], tmp_path: Path) -> None:
    dbname, before = brownfield
    dsn, target = server.dsn(dbname), server.sqitch_target(dbname)
    bundle = tmp_path / "bundle"
    subprocess.run(["sqitch", "bundle", "--dest-dir", str(bundle)], cwd=ROOT, check=True, capture_output=True)
    assert sorted(p.name for p in bundle.iterdir()) == ["deploy", "revert", "sqitch.conf", "sqitch.plan", "verify"]

    # A database deployed by the 0.4.1 release itself, whose scripts included lib/lock_with_retries.sql
    # (the commit that added the tag's own line: later changes name @v0.4.1 in their dependencies too)
    release = subprocess.run(["git", "-C", str(ROOT), "log", "--reverse", "--format=%H", r"-G^@v0\.4\.1 ", "--",
                              "sqitch.plan"], capture_output=True, text=True, check=False).stdout.split()[:1]
    if release:
        old = tmp_path / "v0.4.1"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", release[0], "sqitch.plan", "sqitch.conf", "deploy",
                                  "revert", "verify", "lib"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        sqitch(old, "deploy", target, "--set", "schedule=off")
        assert app_rows(dsn) == before
        assert "Nothing to deploy" in sqitch(bundle, "deploy", target, "--to", "@v0.4.1", "--set", "schedule=off")
        sqitch(bundle, "verify", target, "--to", "@v0.4.1", "--set", "schedule=off")
        sqitch(bundle, "deploy", target, "--set", "schedule=off")  # the upgrade to this release
        assert app_rows(dsn) == before
        assert "Verify successful" in sqitch(bundle, "verify", target, "--set", "schedule=off")
        sqitch(bundle, "revert", target, "-y", "--set", "schedule=off")
        assert not package_present(dsn) and app_rows(dsn) == before

    # Every release tag in turn, then the rest of the plan, from the bundle alone
    for tag in tags():
        out = sqitch(bundle, "deploy", target, "--to", tag, "--set", "schedule=off")
        assert "ok" in out, out
        assert app_rows(dsn) == before, f"the application's rows changed deploying {tag}"
    sqitch(bundle, "deploy", target, "--set", "schedule=off")
    assert "Verify successful" in sqitch(bundle, "verify", target, "--set", "schedule=off")
    assert app_rows(dsn) == before
    if not release:  # no git history here: revert and deploy again from the bundle's own deploy
        sqitch(bundle, "revert", target, "-y", "--set", "schedule=off")
        assert not package_present(dsn) and app_rows(dsn) == before
        sqitch(bundle, "deploy", target, "--set", "schedule=off")
        assert app_rows(dsn) == before


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client built as a wheel and pip-installed into a new virtual environment: its bin directory."""
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT / "python_client"),
                            "-w", str(work / "dist")], capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (work / "dist").glob("session_manager-*.whl")
    venv.EnvBuilder(with_pip=True).create(work / "venv")
    bin_dir = work / "venv" / "bin"
    install = subprocess.run([str(bin_dir / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True,
                             check=False)
    assert install.returncode == 0, install.stderr[-2000:]
    return bin_dir


def session_manager(bin_dir: Path, cwd: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**SQITCH_ENV, "PATH": path if path is not None else f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run([str(bin_dir / "session-manager"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)


def test_wheel_deploys_verifies_reverts_from_an_empty_directory(
        server: Server, brownfield: tuple[str, list[tuple[object, ...]]], installed_wheel: Path,
        tmp_path: Path) -> None:
    dbname, before = brownfield
    dsn = server.dsn(dbname)
    empty = tmp_path / "empty"
    empty.mkdir()

    def ok(*args: str) -> str:
        proc = session_manager(installed_wheel, empty, *args)
        assert proc.returncode == 0, f"session-manager {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    ok("deploy", "--dsn", dsn, "--", "--set", "schedule=off")
    assert app_rows(dsn) == before
    assert "Verify successful" in ok("verify", "--dsn", dsn, "--", "--set", "schedule=off")
    with psycopg.connect(dsn, autocommit=True) as conn:
        active = conn.execute('SELECT count(*) FROM public."conversationSessions" WHERE "isActive"').fetchone()
    assert active == (SESSIONS,)
    assert ok("version", "--dsn", dsn).strip() == ok("--version").split()[1]
    ok("revert", "--dsn", dsn, "--", "-y", "--set", "schedule=off")
    assert not package_present(dsn) and app_rows(dsn) == before
    ok("deploy", "--dsn", dsn, "--", "--set", "schedule=off")
    assert app_rows(dsn) == before
    assert list(empty.iterdir()) == []  # nothing written where it ran

    # The bundle a DBA reviews: the checkout's project, script for script
    ok("deploy", "--print-bundle", str(tmp_path / "review"))
    shipped = sorted(str(p.relative_to(tmp_path / "review")) for p in (tmp_path / "review").rglob("*") if p.is_file())
    in_git = sorted(str(p.relative_to(ROOT)) for d in ("deploy", "revert", "verify") for p in (ROOT / d).rglob("*.sql"))
    assert shipped == sorted([*in_git, "sqitch.conf", "sqitch.plan"])
    assert all((tmp_path / "review" / f).read_bytes() == (ROOT / f).read_bytes() for f in shipped)
    again = session_manager(installed_wheel, empty, "deploy", "--print-bundle", str(tmp_path / "review"))
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "not an empty directory" in again.stderr

    # Without sqitch on PATH: one line saying so
    missing = session_manager(installed_wheel, empty, "deploy", "--dsn", dsn, path=str(installed_wheel))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1, missing.stderr
    assert "the sqitch command is not on PATH" in missing.stderr
    assert shutil.which("sqitch", path=str(installed_wheel)) is None
