"""The package deployed by `sqitch deploy` onto a real Citus coordinator with two workers (issue 15):
the distribution, the application's statements, the routing of the hot path (proven with
citus.log_remote_commands), the races, the privileges, pg_cron's cleanup and the revert.

Select with ``pytest -m citus``; the cluster and its deployed database are session fixtures
(tests/citus_fixtures.py).
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from citus_fixtures import CitusApp, checksums, create_app_tables, sqitch
from test_races import in_threads

from pgcluster import CitusCluster

pytest_plugins = ["citus_fixtures"]
pytestmark = pytest.mark.citus

ROOT = Path(__file__).resolve().parent.parent
SERVER = re.compile(r"on server \S+@127\.0\.0\.1:(\d+)")


def connect(dsn: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=True, options="-c statement_timeout=30s")


@pytest.fixture()
def conn(citus_app: CitusApp) -> Iterator[psycopg.Connection[Any]]:
    with connect(citus_app.dsn()) as c:
        yield c


@pytest.fixture()
def new_user(conn: psycopg.Connection[Any]) -> Callable[[], str]:
    def make() -> str:
        uid = "cu-" + uuid.uuid4().hex[:10]
        conn.execute("INSERT INTO public.\"user\" (id, email) VALUES (%s, %s)", (uid, uid + "@example.com"))
        return uid
    return make


class RemoteLog:
    """The coordinator's citus.log_remote_commands notices of one connection: which node each
    command went to (the worker's port), and the command itself."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.entries: list[tuple[int, str]] = []
        self.conn = conn
        conn.add_notice_handler(self._on_notice)
        conn.execute("SET citus.log_remote_commands = on")
        conn.execute("SET client_min_messages = notice")

    def _on_notice(self, diag: psycopg.errors.Diagnostic) -> None:
        m = SERVER.search(diag.message_detail or "")
        if m and (diag.message_primary or "").startswith("issuing "):
            self.entries.append((int(m.group(1)), diag.message_primary or ""))

    def clear(self) -> None:
        self.entries.clear()

    def ports(self) -> set[int]:
        return {p for p, _ in self.entries}


def worker_of(conn: psycopg.Connection[Any], session_id: str) -> int:
    row = conn.execute("""
        SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
        WHERE p.shardid = get_shard_id_for_distribution_column('public."conversationSessions"', %s::text)""",
                       (session_id,)).fetchone()
    assert row is not None
    return int(row[0])


# -- the distribution -----------------------------------------------------------------------------

def test_deploy_distributes_the_package_and_keeps_every_application_row(citus_app: CitusApp,
                                                                        conn: psycopg.Connection[Any]) -> None:
    kinds = dict(conn.execute("""
        SELECT logicalrelid::text, CASE WHEN partmethod = 'h' THEN 'hash ' || column_to_column_name(logicalrelid,
                partkey)
                                        WHEN repmodel = 't' THEN 'reference' ELSE 'other' END
        FROM pg_dist_partition""").fetchall())
    assert kinds == {'"conversationSessions"': "hash id", '"user"': "reference",
                     "session_manager.settings": "reference", "session_manager.messages": "hash session_id",
                     "session_manager.session_message_counts": "hash session_id",
                     "session_manager.active_chats": "hash user_id"}
    groups = conn.execute("""SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE logicalrelid IN
        ('public."conversationSessions"'::regclass, 'session_manager.messages'::regclass,
         'session_manager.session_message_counts'::regclass)""").fetchone()
    assert groups == (1,), "messages and counters are co-located with their sessions"
    # Both workers hold shards of the sessions, and the seeded rows are spread over them.
    per_node = dict(conn.execute("""
        SELECT nodeport, sum(result::bigint) FROM run_command_on_placements('public."conversationSessions"',
                                                                              'SELECT count(*) FROM %s')
        GROUP BY nodeport""").fetchall())
    assert set(per_node) == set(citus_app.workers) and all(v > 0 for v in per_node.values()), per_node
    assert citus_app.after == citus_app.before
    verify = sqitch(citus_app.cluster, "verify", citus_app.dbname)
    assert "Verify successful" in verify.stdout, verify.stdout


def test_the_orm_statements_run_unchanged_the_by_id_ones_on_one_worker(citus_app: CitusApp,
                                                                      conn: psycopg.Connection[Any],
                                                                      new_user: Callable[[], str]) -> None:
    user = new_user()
    sid = "orm-" + uuid.uuid4().hex[:8]
    # Drizzle's insert: without the package's columns, which get their defaults.
    conn.execute('INSERT INTO public."conversationSessions" (id, "userId", agent, title) VALUES (%s, %s, %s, %s)',
                 (sid, user, "geral", "Boleto"))
    log = RemoteLog(conn)
    conn.execute('UPDATE public."conversationSessions" SET title = %s, "updatedAt" = now() WHERE id = %s',
                 ("Segunda via", sid))
    assert log.ports() == {worker_of(conn, sid)}
    log.clear()
    row = conn.execute('SELECT title, "isActive", "chatId" FROM public."conversationSessions" WHERE id = %s',
                       (sid,)).fetchone()
    assert row == ("Segunda via", True, None)
    assert log.ports() == {worker_of(conn, sid)}
    conn.execute("SET citus.log_remote_commands = off")
    conn.execute("SELECT session_manager.append_message(%s, 'user', 'oi')", (sid,))
    # Deleting the user cascades to its sessions (the application's foreign key, now from a
    # distributed table to a reference table) and from them to the messages.
    conn.execute('DELETE FROM public."user" WHERE id = %s', (user,))
    left = conn.execute("""SELECT (SELECT count(*) FROM public."conversationSessions" WHERE id = %s),
                                  (SELECT count(*) FROM session_manager.messages WHERE session_id = %s)""",
                        (sid, sid)).fetchone()
    assert left == (0, 0)


HOT_PATH = {
    "touch_session": "SELECT session_manager.touch_session(%(s)s)",
    "append_message": "SELECT session_manager.append_message(%(s)s, 'user', 'routed?')",
    "get_context": "SELECT * FROM session_manager.get_context(%(s)s, 10)",
    "get_session_info": "SELECT * FROM session_manager.get_session_info(%(s)s)",
    "touch_sessions": "SELECT session_manager.touch_sessions(ARRAY[%(s)s])",
    "append_messages": """SELECT session_manager.append_messages(%(s)s, '[{"role": "assistant", "content": "a"}]')""",
    "trim_messages": "SELECT session_manager.trim_messages(%(s)s, 1)",
    "pop_message": "SELECT * FROM session_manager.pop_message(%(s)s)",
    "clear_messages": "SELECT session_manager.clear_messages(%(s)s)",
    "end_session": "SELECT session_manager.end_session(%(s)s)",
}


@pytest.mark.parametrize("scoped", [False, True], ids=["lone call", "user-scoped transaction"])
@pytest.mark.parametrize("function", list(HOT_PATH))
def test_each_hot_path_call_reaches_exactly_the_sessions_worker(citus_app: CitusApp, conn: psycopg.Connection[Any],
                                                                new_user: Callable[[], str], function: str,
                                                                scoped: bool) -> None:
    user = new_user()
    row = conn.execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'geral', 'c1')",
                       (user,)).fetchone()
    assert row is not None
    sid = str(row[0])
    conn.execute("SELECT session_manager.append_message(%s, 'user', 'first')", (sid,))
    conn.execute("SELECT session_manager.append_message(%s, 'assistant', 'second')", (sid,))
    owner = worker_of(conn, sid)
    log = RemoteLog(conn)
    if scoped:  # what the client does for acting_as(): set_config and the call in one transaction
        with conn.transaction():
            conn.execute("SELECT set_config('session_manager.user_id', %s, true)", (user,))
            result = conn.execute(HOT_PATH[function], {"s": sid}).fetchall()
    else:
        result = conn.execute(HOT_PATH[function], {"s": sid}).fetchall()
    assert result and result[0][0] not in (None, False, 0), result
    # Routed statement by statement (not delegated: a delegated call with a NULL id crashes the
    # Citus 13.2.2 coordinator, see deploy/citus/functions.sql): every command to the session's worker.
    assert log.entries and log.ports() == {owner}, log.entries


def test_a_null_session_id_is_22004_and_the_coordinator_keeps_running(conn: psycopg.Connection[Any]) -> None:
    """Measured with Citus 13.2.2: a delegated call with a NULL distribution argument crashed the
    coordinator; the functions are not delegated, so a NULL id is the contract's 22004."""
    for call in ("SELECT session_manager.touch_session(NULL)", "SELECT session_manager.get_context(NULL, 5)",
                 "SELECT session_manager.append_message(NULL, 'user', 'x')"):
        with pytest.raises(psycopg.errors.NullValueNotAllowed):
            conn.execute(call)
    assert conn.execute("SELECT 1").fetchone() == (1,)



def test_the_0_5_2_fixes_hold_on_citus(conn: psycopg.Connection[Any], new_user: Callable[[], str]) -> None:
    """append_message and append_messages on Citus have the 0.5.2 bodies with citus/functions' adaptation:
    a retry succeeds after a settings change; one brace of a message_id and a 2-D array are the package's 22023."""
    user = new_user()
    row = conn.execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'geral', 'c-052')",
                       (user,)).fetchone()
    assert row is not None
    sid, one, two = row[0], str(uuid.uuid4()), str(uuid.uuid4())
    single = "SELECT created_at FROM session_manager.append_message(%s, 'assistant', 'oi', %s, 'max')"
    batch = "SELECT created_at FROM session_manager.append_messages(%s, %s)"
    element = json.dumps([{"role": "assistant", "content": "b", "message_id": two, "agent_id": "max"}])
    first, stored = conn.execute(single, (sid, one)).fetchone(), conn.execute(batch, (sid, element)).fetchone()
    conn.execute("UPDATE session_manager.settings SET agents = ARRAY['financeiro', 'geral']")
    try:
        assert conn.execute(single, (sid, one)).fetchone() == first
        assert conn.execute(batch, (sid, element)).fetchone() == stored
        with pytest.raises(psycopg.errors.InvalidParameterValue, match=r"not in settings\.agents"):
            conn.execute(single, (sid, str(uuid.uuid4())))
    finally:
        conn.execute("UPDATE session_manager.settings SET agents = ARRAY['financeiro', 'max', 'geral']")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="is not a UUID"):
        brace = json.dumps([{"role": "user", "content": "x", "message_id": "{" + str(uuid.uuid4())}])
        conn.execute(batch, (sid, brace))
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="one-dimensional"):
        conn.execute("SELECT session_manager.touch_sessions(ARRAY[[%s, %s]])", (sid, sid))
    info = conn.execute("SELECT message_count FROM session_manager.get_session_info(%s)", (sid,)).fetchone()
    assert info == (2,)


# -- the races ------------------------------------------------------------------------------------

def test_fifty_concurrent_get_or_create_for_one_chat_get_one_session(citus_app: CitusApp,
                                                                    conn: psycopg.Connection[Any],
                                                                    new_user: Callable[[], str]) -> None:
    user, chat = new_user(), "5511999990000@c.us"
    conns = [connect(citus_app.dsn()) for _ in range(50)]
    barrier = threading.Barrier(50)

    def call(i: int) -> str:
        barrier.wait()
        row = conns[i].execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'geral', %s)",
                               (user, chat)).fetchone()
        assert row is not None
        return str(row[0])

    try:
        got = in_threads(50, call, timeout=60)
    finally:
        for c in conns:
            c.close()
    assert len(set(got)) == 1, f"{len(set(got))} sessions for one chat"
    active = conn.execute("""SELECT count(*) FROM public."conversationSessions"
                             WHERE "userId" = %s AND "chatId" = %s AND "isActive" """, (user, chat)).fetchone()
    assert active == (1,)
    # And the chat's session closed as stale is replaced, once.
    conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '2 hours'
                    WHERE id = %s""", (got[0],))
    again = conn.execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'max', %s)",
                         (user, chat)).fetchone()
    assert again is not None and again[0] != got[0]
    states = conn.execute("""SELECT id = %s, "isActive" FROM public."conversationSessions"
                             WHERE "userId" = %s ORDER BY 1""", (got[0], user)).fetchall()
    assert states == [(False, True), (True, False)]


def test_touches_racing_two_cleanups_lose_no_live_session_and_counts_are_exact(
        citus_app: CitusApp, conn: psycopg.Connection[Any], new_user: Callable[[], str]) -> None:
    """400 sessions of one user 1.5 s idle, spread over both workers: two cleanups scoped to that
    user with a 1 s timeout run while four threads touch them in random order. A session touched
    (its "lastActivity" moved past the cleanup's cut-off) is never deactivated; the two counts add up
    to the sessions deactivated."""
    user = new_user()
    ids = []
    for _ in range(400):
        row = conn.execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'geral')",
                           (user,)).fetchone()
        assert row is not None
        ids.append(str(row[0]))
    conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '1.5 seconds'
                    WHERE id = ANY(%s)""", (ids,))
    conn.execute("UPDATE session_manager.settings SET cleanup_batch_size = 25")
    touched_true: list[set[str]] = [set() for _ in range(4)]
    cuts: list[Any] = [None, None]
    counts = [0, 0]
    conns = [connect(citus_app.dsn()) for _ in range(6)]
    barrier = threading.Barrier(6)

    def work(i: int) -> None:
        c = conns[i]
        barrier.wait()
        if i < 4:
            order = ids[i::4] + ids[(i + 1) % 4::4]
            for sid in order:
                row = c.execute("SELECT session_manager.touch_session(%s)", (sid,)).fetchone()
                if row and row[0]:
                    touched_true[i].add(sid)
        else:
            with c.transaction():
                c.execute("SELECT set_config('session_manager.user_id', %s, true)", (user,))
                cut = c.execute("SELECT now() - interval '1 second'").fetchone()
                n = c.execute("SELECT session_manager.cleanup_old_sessions(interval '1 second')").fetchone()
            assert cut is not None and n is not None
            cuts[i - 4], counts[i - 4] = cut[0], int(n[0])

    try:
        in_threads(6, work, timeout=60)
    finally:
        for c in conns:
            c.close()
        conn.execute("UPDATE session_manager.settings SET cleanup_batch_size = DEFAULT")
    rows = conn.execute("""SELECT id, "isActive", "lastActivity" FROM public."conversationSessions"
                           WHERE id = ANY(%s)""", (ids,)).fetchall()
    inactive = {r[0] for r in rows if not r[1]}
    assert sum(counts) == len(inactive), (counts, len(inactive))
    latest_cut = max(cuts)
    for sid, active, last in rows:
        if not active:
            assert last < latest_cut, f"{sid} deactivated with lastActivity {last} after the cut-off {latest_cut}"
    # Both sides happened: some touches won, some sessions were cleaned.
    assert inactive and set().union(*touched_true) - inactive, (len(inactive), counts)


# -- privileges and Row Level Security on the workers ---------------------------------------------

@pytest.fixture()
def app_login(conn: psycopg.Connection[Any]) -> Iterator[str]:
    name = "citus_app_" + uuid.uuid4().hex[:6]
    conn.execute(f"CREATE ROLE {name} LOGIN IN ROLE session_manager_app")  # propagated to the workers
    yield name
    conn.execute(f"DROP ROLE {name}")


def test_the_app_role_reads_only_its_users_rows_on_every_worker_and_writes_nothing(
        citus_app: CitusApp, conn: psycopg.Connection[Any], new_user: Callable[[], str], app_login: str) -> None:
    mine, theirs = new_user(), new_user()
    for user in (mine, theirs):
        for n in range(6):  # 12 sessions: both workers hold some of each user's
            row = conn.execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'geral', %s)",
                               (user, f"chat-{n}")).fetchone()
            assert row is not None
            conn.execute("SELECT session_manager.append_message(%s, 'user', 'oi')", (row[0],))
    with connect(citus_app.dsn(app_login)) as app:
        with app.transaction():
            app.execute(psycopg.sql.SQL("SET LOCAL session_manager.user_id = {}").format(mine))
            users = app.execute('SELECT DISTINCT "userId" FROM public."conversationSessions"').fetchall()
            n_sessions = app.execute('SELECT count(*) FROM public."conversationSessions"').fetchone()
            msg_users = app.execute("SELECT DISTINCT user_id FROM session_manager.messages").fetchall()
        assert users == [(mine,)] and n_sessions == (6,) and msg_users == [(mine,)]
        assert app.execute('SELECT count(*) FROM public."conversationSessions"').fetchone() == (0,)
        assert app.execute("SELECT count(*) FROM session_manager.messages").fetchone() == (0,)
        # Scoped calls (the client's way) treat another user's session as unknown.
        theirs_sid = conn.execute("""SELECT id FROM public."conversationSessions" WHERE "userId" = %s LIMIT 1""",
                                  (theirs,)).fetchone()
        assert theirs_sid is not None
        with app.transaction():
            app.execute("SELECT set_config('session_manager.user_id', %s, true)", (mine,))
            assert app.execute("SELECT session_manager.touch_session(%s)", theirs_sid).fetchone() == (False,)
            assert app.execute("SELECT count(*) FROM session_manager.get_context(%s)", theirs_sid).fetchone() == (0,)
        # A lone call is delegated to the worker and runs there with the app role's EXECUTE grant.
        assert app.execute("SELECT session_manager.touch_session(%s)", theirs_sid).fetchone() == (True,)
        for statement in ('INSERT INTO public."conversationSessions" (id, "userId", agent) '
                          "VALUES ('x', 'y', 'geral')",
                          'UPDATE public."conversationSessions" SET title = \'x\'',
                          "DELETE FROM session_manager.messages",
                          "UPDATE session_manager.settings SET idle_timeout = '1 minute'",
                          "INSERT INTO session_manager.active_chats VALUES ('a', 'b', 'c')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)


# -- scheduling and monitoring --------------------------------------------------------------------

@pytest.mark.slow
def test_pg_cron_on_the_coordinator_cleans_every_worker_with_an_exact_count(
        citus_app: CitusApp, conn: psycopg.Connection[Any]) -> None:
    job = conn.execute("SELECT jobid, command FROM cron.job WHERE jobname = %s",
                       ("session_manager_cleanup_" + citus_app.dbname,)).fetchone()
    assert job is not None and "run_cleanup_job" in job[1]
    # 40 sessions made idle now, on both workers: the job's next run after this must clean them.
    users = [str(r[0]) for r in conn.execute('SELECT id FROM public."user" ORDER BY id LIMIT 4').fetchall()]
    ids = [str(conn.execute("SELECT session_id FROM session_manager.get_or_create_session(%s, 'geral')",
                            (users[i % 4],)).fetchone()[0]) for i in range(40)]  # type: ignore[index]
    conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '2 hours'
                    WHERE id = ANY(%s)""", (ids,))
    marked = conn.execute("SELECT clock_timestamp()").fetchone()
    assert marked is not None
    deadline = time.monotonic() + 75
    run = None
    while time.monotonic() < deadline:
        run = conn.execute("""SELECT status, return_message, start_time FROM cron.job_run_details
                              WHERE jobid = %s AND start_time > %s AND status IN ('succeeded', 'failed')
                              ORDER BY runid LIMIT 1""", (job[0], marked[0])).fetchone()
        if run:
            break
        time.sleep(1)
    assert run is not None and run[0] == "succeeded", run
    left = conn.execute("""SELECT count(*) FILTER (WHERE "isActive") FROM public."conversationSessions"
                           WHERE id = ANY(%s)""", (ids,)).fetchone()
    assert left == (0,)
    # Every session idle past the timeout when the run started is cleaned, on every worker. (Not
    # session_stats.idle_backlog: the seed has one session per minute of age, so one crosses the
    # 30-minute timeout each minute, now and then between the run and this check.)
    missed = conn.execute("""SELECT count(*) FROM public."conversationSessions" c, session_manager.settings s
                             WHERE c."isActive" AND c."lastActivity" < %s - s.idle_timeout""", (run[2],)).fetchone()
    assert missed == (0,)
    # The runs that finished after the sessions went idle: a run already under way then may have
    # cleaned them, the one found above then only what aged since (CI saw 1 in the latest record).
    recorded = conn.execute("""SELECT sum(deactivated) FROM session_manager.cleanup_history
                               WHERE source = 'cron' AND finished_at > %s""", (marked[0],)).fetchone()
    assert recorded is not None and recorded[0] is not None and recorded[0] >= 40


def test_session_stats_count_the_whole_cluster(conn: psycopg.Connection[Any]) -> None:
    # One transaction, so one now(): the seed ages one session past the timeout every minute.
    with conn.transaction():
        stats = conn.execute("SELECT active_sessions, live_sessions FROM session_manager.session_stats").fetchone()
        direct = conn.execute("""
            SELECT count(*) FILTER (WHERE "isActive"),
                   count(*) FILTER (WHERE "isActive" AND "lastActivity" >= now() - interval '30 minutes')
            FROM public."conversationSessions" """).fetchone()
    assert stats == direct
    checks = dict(conn.execute("SELECT check_name, status FROM session_manager.health_check()").fetchall())
    assert checks["pg_cron"] == "ok", checks


# -- pgTAP ----------------------------------------------------------------------------------------

# The files whose fixtures and assertions Citus runs as they are. The others assert through pgTAP
# functions (is(), throws_ok()) around calls of distributed functions inside the file's one
# transaction; Citus sends those statements to the session's worker, where pgTAP's plan (a
# temporary table of the coordinator's session) does not exist ("You tried to run a test without
# a plan!"), or they check the one-node design itself (the settings cache's constant functions,
# the partial unique index, HOT updates of one heap, the storage of one node).
PGTAP_ON_CITUS = ["020_settings.sql", "080_get_context.sql"]


@pytest.mark.parametrize("name", PGTAP_ON_CITUS)
def test_pgtap_file_passes_on_citus(citus_app: CitusApp, name: str) -> None:
    import subprocess  # noqa: PLC0415

    proc = subprocess.run(["pg_prove", "--verbose", "--failures", "-d", citus_app.dsn(),
            str(ROOT / "sql_tests" / name)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0 and "Result: PASS" in proc.stdout, proc.stdout + proc.stderr


# -- revert, and a deploy as on plain PostgreSQL --------------------------------------------------

def test_revert_removes_the_package_and_leaves_every_application_row(citus_app: CitusApp) -> None:
    cluster, db = citus_app.cluster, "sm_citus_revert"
    cluster.prepare_database(db)
    create_app_tables(cluster, db, sessions=500, users=50)
    before = checksums(cluster.dsn(db))
    sqitch(cluster, "deploy", db, "--set", "schedule=off")
    with connect(cluster.dsn(db)) as c:
        # The package's own rows on top: a chat with messages, which the revert removes.
        row = c.execute("SELECT session_id FROM session_manager.get_or_create_session('user-1', 'geral', 'c')"
                        ).fetchone()
        assert row is not None
        c.execute("SELECT session_manager.append_message(%s, 'user', 'oi')", row)
        c.execute("""UPDATE public."conversationSessions" SET title = title WHERE id = 'seed-1'""")
    after_deploy = checksums(cluster.dsn(db))
    sqitch(cluster, "revert", db, "-y", "--set", "schedule=off")
    after = checksums(cluster.dsn(db))
    # The application's rows as they were, plus the session the package created (an application row now).
    assert after == after_deploy
    assert after["user"] == before["user"] and after["conversationSessions"][0] == before["conversationSessions"][0] + 1
    with connect(cluster.dsn(db)) as c:
        left = c.execute("""SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'session_manager'),
                                   (SELECT count(*) FROM information_schema.columns
                                    WHERE table_name = 'conversationSessions'
                                      AND column_name IN ('lastActivity', 'isActive', 'chatId'))""").fetchone()
        assert left == (0, 0)
        kinds = dict(c.execute("SELECT logicalrelid::text, partmethod::text FROM pg_dist_partition").fetchall())
        assert kinds == {'"conversationSessions"': "h", '"user"': "n"}, "the application's tables stay distributed"
    # Deployed again onto the tables the revert left distributed: taken as they are.
    sqitch(cluster, "deploy", db, "--set", "schedule=off")
    assert checksums(cluster.dsn(db)) == after
    assert schema_shape_differences(cluster.dsn(db), citus_app.dsn()) == set()
    with connect(cluster.dsn(db)) as c:
        row = c.execute("SELECT session_id FROM session_manager.get_or_create_session('user-1', 'geral', 'c')"
                        ).fetchone()
        assert row is not None
        assert c.execute("SELECT session_manager.touch_session(%s)", row).fetchone() == (True,)


# What a deploy makes of the package's objects, to compare two deploys: columns, constraints, indexes
# and function bodies of the package's schema and of the sessions table, with each table's Citus kind.
SCHEMA_SHAPE = """
    WITH rels AS (SELECT c.oid FROM pg_class c
                  WHERE ((c.relnamespace = 'session_manager'::regnamespace AND c.relkind IN ('r', 'v', 'p'))
                         OR c.oid = 'public."conversationSessions"'::regclass)
                    -- not the shards that Citus left on the coordinator and drops a few seconds later
                    AND c.relname !~ '_[0-9]+$')
    SELECT string_agg(x, E'\n' ORDER BY x) FROM (
      SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
             || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
      FROM pg_attribute a JOIN rels ON rels.oid = a.attrelid WHERE a.attnum > 0 AND NOT a.attisdropped
      UNION ALL
      SELECT 'constraint ' || c.conrelid::regclass || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
      FROM pg_constraint c JOIN rels ON rels.oid = c.conrelid
      UNION ALL
      SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN rels ON rels.oid = i.indrelid
      UNION ALL
      -- (the settings cache's constant functions return each database's own settings)
      SELECT 'function ' || p.oid::regprocedure || ' '
             || CASE WHEN p.proname LIKE 'cached\\_%' THEN 'constant' ELSE md5(coalesce(p.prosrc, '')) END
      FROM pg_proc p
      WHERE p.pronamespace = 'session_manager'::regnamespace
      UNION ALL
      SELECT 'citus ' || d.logicalrelid::text || ' ' || d.partmethod::text || ' ' || d.repmodel::text
      FROM pg_dist_partition d) AS shape(x)"""


def schema_shape_differences(dsn: str, reference_dsn: str) -> set[str]:
    """The lines of SCHEMA_SHAPE that one of the two databases has and the other has not."""
    with connect(dsn) as c, connect(reference_dsn) as r:
        ours, theirs = (set(str(conn.execute(SCHEMA_SHAPE).fetchone()[0]).split("\n"))  # type: ignore[index]
                        for conn in (c, r))
    return ours ^ theirs


def app_tables_moved_to_citus(cluster: CitusCluster, db: str, sessions: int, users: int, *statements: str) -> str:
    """A database with the application's tables, which the application itself then made Citus tables
    (the statements); returns the refused deploy's output, its nothing-changed checked."""
    cluster.prepare_database(db)
    create_app_tables(cluster, db, sessions=sessions, users=users)
    with connect(cluster.dsn(db)) as c:
        c.execute("SET client_min_messages = warning")
        for statement in statements:
            c.execute(statement)  # type: ignore[arg-type]
    before = checksums(cluster.dsn(db))
    refused = sqitch(cluster, "deploy", db, "--set", "schedule=off", check=False)
    assert refused.returncode != 0, refused.stdout
    with connect(cluster.dsn(db)) as c:
        assert c.execute("SELECT to_regnamespace('session_manager')").fetchone() == (None,)
    assert checksums(cluster.dsn(db)) == before
    return refused.stdout + refused.stderr


def test_deploy_takes_sessions_already_distributed_by_id_as_they_are(citus_app: CitusApp) -> None:
    """The application moved to Citus first, by id, with Citus's own create_distributed_table: the
    deploy asks for the local copy that it leaves on the coordinator to go, then takes the tables as
    they are and ends as a deploy onto local tables does."""
    cluster, db = citus_app.cluster, "sm_citus_predistributed"
    out = app_tables_moved_to_citus(cluster, db, 500, 50, """SELECT create_reference_table('public."user"')""",
                                    """SELECT create_distributed_table('public."conversationSessions"', 'id')""")
    assert "still holds the local copy" in out and "truncate_local_data_after_distributing_table" in out, out
    before = checksums(cluster.dsn(db))
    with connect(cluster.dsn(db)) as c:
        c.execute("SET client_min_messages = warning")
        c.execute("""SELECT truncate_local_data_after_distributing_table('public."conversationSessions"')""")
    assert checksums(cluster.dsn(db)) == before
    sqitch(cluster, "deploy", db, "--set", "schedule=off")
    assert checksums(cluster.dsn(db)) == before
    assert "Verify successful" in sqitch(cluster, "verify", db, "--set", "schedule=off").stdout
    assert schema_shape_differences(cluster.dsn(db), citus_app.dsn()) == set()
    with connect(cluster.dsn(db)) as c:
        row = c.execute("SELECT session_id FROM session_manager.get_or_create_session('user-1', 'geral', 'c')"
                        ).fetchone()
        assert row is not None
        c.execute("SELECT session_manager.append_message(%s, 'user', 'oi')", row)
        assert c.execute("SELECT count(*) FROM session_manager.get_context(%s)", row).fetchone() == (1,)
        assert c.execute("SELECT session_manager.touch_session(%s)", row).fetchone() == (True,)


def test_deploy_refuses_sessions_that_are_a_citus_table_of_another_kind(citus_app: CitusApp) -> None:
    out = app_tables_moved_to_citus(
        citus_app.cluster, "sm_citus_reference_sessions", 100, 10,
        """SELECT create_reference_table('public."user"')""",
        """SELECT create_reference_table('public."conversationSessions"')""",
        """SELECT truncate_local_data_after_distributing_table('public."conversationSessions"')""")
    assert "already a Citus table (reference)" in out, out
    assert "alter_distributed_table" in out and "undistribute_table" in out


def test_citus_off_deploys_as_on_plain_postgresql(citus_app: CitusApp) -> None:
    cluster, db = citus_app.cluster, "sm_citus_off"
    cluster.prepare_database(db)
    create_app_tables(cluster, db, sessions=100, users=10)
    sqitch(cluster, "deploy", db, "--set", "schedule=off", "--set", "citus=off")
    with connect(cluster.dsn(db)) as c:
        assert c.execute("SELECT count(*) FROM pg_dist_partition").fetchone() == (0,)
        assert c.execute("""SELECT count(*) FROM pg_indexes
                            WHERE indexname = 'conversation_sessions_one_active_chat'""").fetchone() == (1,)
    verify = sqitch(cluster, "verify", db, "--set", "citus=off", "--set", "schedule=off")
    assert "Verify successful" in verify.stdout
