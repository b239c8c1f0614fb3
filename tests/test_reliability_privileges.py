"""Reliability proofs, part 1: privileges (issue 9), through real login roles the test creates.

- A login role granted session_manager_app: no INSERT, UPDATE, DELETE or TRUNCATE on any table of the
  package or the application (every one listed from pg_class), no other user's rows (Row Level Security
  and the functions' scoping, also through the client), no change to the settings or to the owner's
  pg_cron job (in pg_cron's database), no monitoring-only or internal function; it may execute exactly
  the contract's session functions.
- A login role granted session_manager_monitor: reads every monitoring view and function granted to it
  (listed from the catalog), and changes nothing (every write refused with 42501).
- A login role that may create in public plants functions, operators and tables there and in pg_temp that
  shadow what the package names, puts them first on its search_path, and runs a scripted chat through the
  functions (directly and through the client): the results are those of the same script without them, and
  no planted object is ever executed or written.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from psycopg.types.json import Jsonb
from test_reliability_hostile_input import CHECKSUM

from conftest import Server
from reliability_report import record_proof
from session_manager import NotFoundError, PermissionDeniedError, SessionManager

SESSION_FUNCTIONS = {
    "session_manager.touch_session(text)", "session_manager.touch_sessions(text[])",
    "session_manager.cleanup_old_sessions(interval)", "session_manager.get_or_create_session(text,text,text,text)",
    "session_manager.end_session(text)", "session_manager.append_message(text,text,text,uuid,text,jsonb)",
    "session_manager.get_context(text,integer,text)", "session_manager.get_session_info(text)",
    # Agent memory (issue 16).
    "session_manager.append_messages(text,jsonb)", "session_manager.pop_message(text)",
    "session_manager.clear_messages(text)", "session_manager.trim_messages(text,integer,text)",
    "session_manager.find_chat_session(text,text)",
    "session_manager.list_user_sessions(text,boolean)", "session_manager.version()",
}
MONITORING_VIEWS = {"session_manager.function_stats", "session_manager.session_stats",
                    "session_manager.storage_stats", "session_manager.cleanup_history"}
MONITORING_FUNCTIONS = {"session_manager.statement_stats()", "session_manager.cleanup_job_status()",
                        "session_manager.health_check()"}

STATE = """
TRUNCATE public."user", session_manager.cleanup_runs CASCADE;
INSERT INTO public."user" (id, email) VALUES ('u1', 'u1@example.com'), ('u2', 'u2@example.com');
INSERT INTO public."conversationSessions" (id, "userId", agent, "chatId", "isActive", "lastActivity") VALUES
  ('own-live', 'u1', 'geral', 'c1', true, now()),
  ('own-stale', 'u1', 'max', 'c2', true, now() - interval '2 hours'),
  ('other-live', 'u2', 'geral', 'c1', true, now()),
  ('other-stale', 'u2', 'geral', 'c3', true, now() - interval '2 hours');
INSERT INTO session_manager.messages (message_id, session_id, role, content) VALUES
  (gen_random_uuid(), 'own-live', 'user', 'mine'), (gen_random_uuid(), 'other-live', 'user', 'secret');
INSERT INTO session_manager.session_message_counts VALUES ('own-live', 1), ('other-live', 1);
"""

# Every table the package owns or extends, and the application's: listed, not hand-picked.
TABLES = """
SELECT format('%I.%I', c.relnamespace::regnamespace, c.relname),
       (SELECT a.attname FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = ''
          AND a.attgenerated = ''
        ORDER BY a.attnum LIMIT 1)
FROM pg_class c
WHERE c.relkind IN ('r', 'p') AND (c.relnamespace = 'session_manager'::regnamespace
      OR c.oid IN ('public."conversationSessions"'::regclass, 'public."user"'::regclass))
ORDER BY 1
"""


def dsn_as(dsn: str, role: str, **options: str) -> str:
    parts = dsn.split("://", 1)[1].split("@", 1)[-1]
    extra = "&".join(f"{k}={quote(v)}" for k, v in options.items())
    return f"postgresql://{role}@{parts}" + ("?" + extra if extra else "")


class Roles:
    """Login roles made for one module; dropped (with what they own) at its end."""

    def __init__(self, server: Server, dbs: list[str]) -> None:
        self.server, self.dbs, self.made = server, dbs, []

    def make(self, *groups: str, extra: str = "") -> str:
        name = "sm_rel_" + uuid.uuid4().hex[:8]
        self.server.execute("postgres", f"CREATE ROLE {name} LOGIN" + (" IN ROLE " + ", ".join(groups)
                                                                         if groups else ""))
        if extra:
            for db in self.dbs:
                self.server.execute(db, extra.format(role=name))
        self.made.append(name)
        return name

    def drop(self) -> None:
        for name in self.made:
            for db in self.dbs:
                self.server.execute(db, f"DROP OWNED BY {name}")
            self.server.execute("postgres", f"DROP ROLE {name}")


def dbname(dsn: str) -> str:
    return dsn.rsplit("/", 1)[-1].split("?", 1)[0]


@pytest.fixture(scope="module")
def roles(server: Server, db: str) -> Iterator[Roles]:
    made = Roles(server, [dbname(db)])
    yield made
    made.drop()


@pytest.fixture()
def owner(db: str) -> Iterator[psycopg.Connection[Any]]:
    """The tables' owner (the superuser here), with the fixed state."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(STATE)
        yield conn


def checksum(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(CHECKSUM).fetchone()
    assert row is not None
    return str(row[0])


def refused(conn: psycopg.Connection[Any], sql: str, params: list[Any] | None = None) -> str | None:
    """The SQLSTATE a statement fails with (None if it succeeds); the transaction is left clean."""
    try:
        with conn.transaction():
            conn.execute(sql, params)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def writes_on_every_table(owner: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    statements = []
    for table, column in owner.execute(TABLES).fetchall():
        col = psycopg.sql.Identifier(column).as_string(owner) if column else None
        statements += [(table, f"INSERT INTO {table} DEFAULT VALUES"),
                       (table, f"DELETE FROM {table}"),
                       (table, f"TRUNCATE {table}")]
        if col:
            statements.append((table, f"UPDATE {table} SET {col} = {col}"))
    return statements


# -- session_manager_app ---------------------------------------------------------------------------------


def test_the_app_role_can_write_no_table_directly(db: str, roles: Roles, owner: psycopg.Connection[Any]) -> None:
    app = roles.make("session_manager_app")
    statements = writes_on_every_table(owner)
    before = checksum(owner)
    with psycopg.connect(dsn_as(db, app), autocommit=True) as conn:
        conn.execute("SELECT set_config('session_manager.user_id', 'u1', false)")
        outcomes = {sql: refused(conn, sql) for _, sql in statements}
    assert {sql: s for sql, s in outcomes.items() if s != "42501"} == {}
    assert checksum(owner) == before
    tables = sorted({t for t, _ in statements})
    assert {"public.\"conversationSessions\"", "public.\"user\"", "session_manager.messages",
            "session_manager.settings", "session_manager.session_message_counts",
            "session_manager.cleanup_runs"} <= set(tables)
    record_proof("app_role_writes_no_table", part=1, title="session_manager_app writes no table directly",
                 workers="1 login role in session_manager_app", inputs_tried=f"{len(statements)} statements: "
                 f"INSERT, UPDATE, DELETE, TRUNCATE on each of {len(tables)} tables ({', '.join(tables)})",
                 rows_checked="checksum of the package's tables before and after",
                 failures="0: every statement refused with 42501, nothing changed")


def test_the_app_role_executes_exactly_the_session_functions(db: str, roles: Roles,
                                                            owner: psycopg.Connection[Any]) -> None:
    app = roles.make("session_manager_app")
    rows = owner.execute("""
        SELECT p.oid::regprocedure::text, p.prokind, has_function_privilege(%s, p.oid, 'EXECUTE'),
               pg_get_function_identity_arguments(p.oid),
               ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) AS t)
        FROM pg_proc p WHERE p.pronamespace = 'session_manager'::regnamespace ORDER BY 1""", [app]).fetchall()
    granted = {re.sub(r", ", ",", name) for name, _, ok, _, _ in rows if ok}
    assert granted == SESSION_FUNCTIONS
    before = checksum(owner)
    outcomes: dict[str, str | None] = {}
    with psycopg.connect(dsn_as(db, app), autocommit=True) as conn:
        for name, kind, ok, _, types in rows:
            if ok:
                continue
            args = ", ".join(f"NULL::{t}" for t in types)
            fn = name.split("(", 1)[0]
            outcomes[name] = refused(conn, f"CALL {fn}({args})" if kind == "p" else f"SELECT {fn}({args})")
        views = {v: refused(conn, f"SELECT * FROM {v}") for v in sorted(MONITORING_VIEWS)}
    assert {n: s for n, s in outcomes.items() if s != "42501"} == {}
    assert {v: s for v, s in views.items() if s != "42501"} == {}
    assert "session_manager.health_check()" in outcomes and "session_manager.run_cleanup_job()" in outcomes
    assert "session_manager.purge_inactive_sessions(interval)" in outcomes
    assert checksum(owner) == before
    record_proof("app_role_functions", part=1,
                 title="session_manager_app executes the session functions and nothing else",
                 workers="1 login role in session_manager_app",
                 inputs_tried=f"{len(outcomes)} other functions and procedures of session_manager (monitoring, "
                              f"purge, the job, internals, trigger functions), called with NULLs; "
                              f"{len(views)} monitoring views read",
                 rows_checked=f"{len(rows)} functions from pg_proc: EXECUTE granted on exactly the contract's "
                              f"{len(SESSION_FUNCTIONS)}",
                 failures="0: every other call refused with 42501, nothing changed")


def test_the_app_role_reads_and_reaches_only_its_users_rows(db: str, roles: Roles,
                                                           owner: psycopg.Connection[Any]) -> None:
    app = roles.make("session_manager_app")
    before = checksum(owner)
    checks = 0

    def sees(conn: psycopg.Connection[Any], sql: str, params: list[Any] | None = None) -> list[Any]:
        nonlocal checks
        checks += 1
        return [r[0] for r in conn.execute(sql, params).fetchall()]  # type: ignore[arg-type]

    with psycopg.connect(dsn_as(db, app), autocommit=False) as conn:
        # Unscoped: Row Level Security shows nothing.
        assert sees(conn, 'SELECT id FROM public."conversationSessions"') == []
        assert sees(conn, "SELECT content FROM session_manager.messages") == []
        conn.rollback()
        for scope in ("u1", "u1' OR 'x'='x", "%", "u1%", " u1"):
            conn.execute("SELECT set_config('session_manager.user_id', %s, true)", [scope])
            want = ["own-live", "own-stale"] if scope == "u1" else []
            assert sees(conn, 'SELECT id FROM public."conversationSessions" ORDER BY id') == want, scope
            assert sees(conn, "SELECT content FROM session_manager.messages") == (["mine"] if scope == "u1" else [])
            conn.rollback()
        # Scoped to u1, u2's sessions are unknown to every function.
        conn.execute("SELECT set_config('session_manager.user_id', 'u1', true)")
        assert sees(conn, "SELECT session_manager.touch_session('other-live')") == [False]
        assert sees(conn, "SELECT session_manager.touch_sessions(ARRAY['other-live', 'own-live'])") == [1]
        assert sees(conn, "SELECT session_manager.end_session('other-live')") == [False]
        assert sees(conn, "SELECT session_id FROM session_manager.get_session_info('other-live')") == []
        assert sees(conn, "SELECT content FROM session_manager.get_context('other-live')") == []
        assert sees(conn, "SELECT session_id FROM session_manager.list_user_sessions('u2', true)") == []
        assert sees(conn, "SELECT session_manager.cleanup_old_sessions()") == [1]  # own-stale only
        assert sees(conn, "SELECT content FROM session_manager.get_context('other-live', 5, 'geral')") == []
        assert sees(conn, "SELECT session_id FROM session_manager.find_chat_session('u2', 'c1')") == []
        for sql, state in [("SELECT session_manager.append_message('other-live', 'user', 'x')", "P0002"),
                           ("SELECT session_manager.append_messages('other-live', '[{\"role\": \"user\", "
                            "\"content\": \"x\"}]')", "P0002"),
                           ("SELECT * FROM session_manager.pop_message('other-live')", "P0002"),
                           ("SELECT session_manager.clear_messages('other-live')", "P0002"),
                           ("SELECT session_manager.trim_messages('other-live', 0)", "P0002"),
                           ("SELECT session_manager.get_or_create_session('u2', 'geral', 'c1')", "P0002")]:
            assert refused(conn, sql) == state, sql
            checks += 1
        conn.rollback()

    # The same through the client, scoped with acting_as.
    with SessionManager(dsn_as(db, app), min_size=1, max_size=1, timeout=10.0) as manager:
        mine = manager.acting_as("u1")
        assert mine.touch_session("other-live") is False
        assert mine.get_session_info("other-live") is None
        assert mine.get_context("other-live") == []
        assert mine.list_user_sessions("u2", include_inactive=True) == []
        assert [m.content for m in mine.get_context("own-live")] == ["mine"]
        assert mine.find_chat_session("u2", "c1") is None
        for call in (lambda: mine.pop_message("other-live"), lambda: mine.clear_messages("other-live"),
                     lambda: mine.trim_messages("other-live", 0),
                     lambda: mine.append_messages("other-live", [{"role": "user", "content": "x"}])):
            with pytest.raises(NotFoundError):
                call()
        with pytest.raises(PermissionDeniedError):
            mine.health_check()
        checks += 11
    assert checksum(owner) == before
    other = owner.execute("""SELECT id, "isActive" FROM public."conversationSessions" WHERE "userId" = 'u2'
                             ORDER BY id""").fetchall()
    assert other == [("other-live", True), ("other-stale", True)]
    record_proof("app_role_row_level_security", part=1,
                 title="session_manager_app reads and reaches only the rows of the user it acts for",
                 workers="1 login role in session_manager_app (psycopg and the client's acting_as)",
                 inputs_tried="unscoped reads; scopes 'u1', and injection-like scopes (quotes, %, a space); "
                              "touch, touch_sessions, end, info, context, list, cleanup, append, get_or_create "
                              "aimed at u2's sessions while scoped to u1",
                 operations=checks, rows_checked="the two tables' visible rows; u2's sessions afterwards",
                 failures="0 rows of another user seen or changed",
                 note="scoping is the application's to set: a role that sets session_manager.user_id to u2 "
                      "acts for u2 (the contract's trust model), and unscoped function calls act on all users")


@pytest.fixture(scope="module")
def cron_roles(server: Server, cron_db: str) -> Iterator[Roles]:
    made = Roles(server, [cron_db])
    yield made
    made.drop()


def test_the_app_role_cannot_change_the_settings_or_the_cron_job(server: Server, cron_db: str, cron_roles: Roles
                                                                 ) -> None:
    app = cron_roles.make("session_manager_app")
    job_sql = "SELECT jobid, schedule, command, nodename, database, username, active, jobname FROM cron.job ORDER BY 1"
    with psycopg.connect(server.dsn(cron_db), autocommit=True) as owner:
        jobs_before = owner.execute(job_sql).fetchall()
        settings_before = owner.execute("SELECT s::text FROM session_manager.settings s").fetchone()
        job = owner.execute("SELECT jobid, jobname FROM cron.job WHERE jobname = %s",
                            ["session_manager_cleanup_" + cron_db]).fetchone()
    assert job is not None
    jobid, jobname = job
    attempts = [
        "UPDATE session_manager.settings SET idle_timeout = '1 second'",
        "UPDATE session_manager.settings SET agents = '{hacker}'",
        "DELETE FROM session_manager.settings",
        "INSERT INTO session_manager.settings DEFAULT VALUES",
        "TRUNCATE session_manager.settings",
        f"UPDATE cron.job SET command = 'SELECT 1' WHERE jobid = {jobid}",
        f"UPDATE cron.job SET active = false WHERE jobid = {jobid}",
        f"DELETE FROM cron.job WHERE jobid = {jobid}",
        f"SELECT cron.unschedule({jobid})",
        f"SELECT cron.unschedule('{jobname}')",
        f"SELECT cron.alter_job({jobid}, command := 'SELECT 1')",
        f"SELECT cron.schedule('{jobname}', '* * * * *', 'SELECT 1')",
        "DELETE FROM cron.job_run_details",
        "CALL session_manager.run_cleanup_job()",
    ]
    with psycopg.connect(dsn_as(server.dsn(cron_db), app), autocommit=True) as conn:
        outcomes = {sql: refused(conn, sql) for sql in attempts}
        # pg_cron shows a role only its own jobs, where it lets it read cron.job at all.
        seen = None if refused(conn, "SELECT 1 FROM cron.job") else conn.execute("SELECT count(*) FROM cron.job")
        seen_jobs = seen.fetchone() if seen else (0,)
    with psycopg.connect(server.dsn(cron_db), autocommit=True) as owner:
        assert owner.execute(job_sql).fetchall() == jobs_before
        assert owner.execute("SELECT s::text FROM session_manager.settings s").fetchone() == settings_before
    # Whatever each attempt met (no privilege, or pg_cron not showing the owner's job), it failed.
    assert [sql for sql, state in outcomes.items() if state is None] == []
    assert seen_jobs == (0,), "the app role sees the owner's cron jobs"
    states = sorted({s for s in outcomes.values() if s})
    record_proof("app_role_settings_and_cron", part=1,
                 title="session_manager_app cannot change the settings or the owner's pg_cron job",
                 workers="1 login role in session_manager_app, in pg_cron's database",
                 inputs_tried=f"{len(attempts)} attempts: UPDATE/DELETE/INSERT/TRUNCATE of the settings; UPDATE and "
                              "DELETE of cron.job, cron.unschedule, cron.alter_job, cron.schedule over the job's "
                              "name, DELETE of cron.job_run_details, CALL of the job's procedure",
                 operations=f"refused with {', '.join(states)}",
                 rows_checked="the settings row and every cron.job row, before and after",
                 failures="0 attempts succeeded, 0 changes")


# -- session_manager_monitor -------------------------------------------------------------------------------


def test_the_monitor_role_reads_every_monitoring_object_and_changes_nothing(db: str, roles: Roles,
                                                                           owner: psycopg.Connection[Any]) -> None:
    monitor = roles.make("session_manager_monitor")
    views = {r[0] for r in owner.execute("""
        SELECT format('%%I.%%I', schemaname, viewname) FROM pg_views
        WHERE schemaname = 'session_manager' AND has_table_privilege(%s, format('%%I.%%I', schemaname, viewname),
                                                                       'SELECT')""", [monitor]).fetchall()}
    functions = {r[0] for r in owner.execute("""
        SELECT p.oid::regprocedure::text FROM pg_proc p
        WHERE p.pronamespace = 'session_manager'::regnamespace AND has_function_privilege(%s, p.oid, 'EXECUTE')""",
                                             [monitor]).fetchall()}
    assert views == MONITORING_VIEWS and functions == MONITORING_FUNCTIONS
    statements = writes_on_every_table(owner)
    # Each session function with as many NULLs as it has arguments.
    session_calls = [f"SELECT {f.split('(')[0]}({', '.join(['NULL'] * (f.count(',') + 1))})"
                     for f in sorted(SESSION_FUNCTIONS - {"session_manager.version()"})]
    before = checksum(owner)
    rows_read = 0
    with psycopg.connect(dsn_as(db, monitor), autocommit=True) as conn:
        for obj in sorted(views) + sorted(functions):
            rows_read += len(conn.execute(f"SELECT * FROM {obj}").fetchall())
        writes = {sql: refused(conn, sql) for _, sql in statements}
        calls = {sql: refused(conn, sql) for sql in [*session_calls, "SELECT session_manager.version()",
                                                       "CALL session_manager.run_cleanup_job()",
                                                       "SELECT session_manager.purge_inactive_sessions()"]}
        reads = {t: refused(conn, f"SELECT * FROM {t}") for t in
                 ['public."conversationSessions"', "session_manager.messages", "session_manager.settings"]}
    with SessionManager(dsn_as(db, monitor), min_size=1, max_size=1, timeout=10.0) as manager:
        assert manager.health_check() and manager.session_stats() is not None
        with pytest.raises(PermissionDeniedError):
            manager.touch_session("own-live")
    assert {s: v for s, v in writes.items() if v != "42501"} == {}
    assert {s: v for s, v in calls.items() if v != "42501"} == {}
    assert {s: v for s, v in reads.items() if v != "42501"} == {}
    assert checksum(owner) == before
    record_proof("monitor_role", part=1,
                 title="session_manager_monitor reads the monitoring objects and changes nothing",
                 workers="1 login role in session_manager_monitor (psycopg and the client)",
                 operations=f"{len(views)} views and {len(functions)} functions read (listed from pg_views and "
                            f"pg_proc by privilege: exactly {', '.join(sorted(views | functions))}), {rows_read} rows",
                 inputs_tried=f"{len(writes)} writes on every table, {len(calls)} session and DBA function calls, "
                               f"{len(reads)} direct table reads",
                 rows_checked="checksum of the package's tables before and after",
                 failures="0: every write, call and table read refused with 42501, nothing changed")


# -- objects planted in public and pg_temp -------------------------------------------------------------------

PLANT = """
CREATE TABLE public.hijack_calls (what text, at timestamptz DEFAULT pg_catalog.clock_timestamp());
GRANT INSERT ON public.hijack_calls TO PUBLIC;
CREATE FUNCTION public.hijacked(what text) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO public.hijack_calls (what) VALUES (what) $$;
GRANT EXECUTE ON FUNCTION public.hijacked(text) TO PUBLIC;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('now'); RETURN '2000-01-01'; END $$;
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('clock_timestamp'); RETURN '2000-01-01'; END $$;
CREATE FUNCTION public.gen_random_uuid() RETURNS uuid LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('gen_random_uuid'); RETURN '00000000-0000-0000-0000-000000000000'; END $$;
CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('current_setting'); RETURN 'u2'; END $$;
CREATE FUNCTION public.length(text) RETURNS integer LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('length'); RETURN 0; END $$;
CREATE FUNCTION public.scoped_user() RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('scoped_user'); RETURN NULL; END $$;
CREATE FUNCTION public.check_id(text, text) RETURNS void LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('check_id'); END $$;
CREATE FUNCTION public.raise_invalid(text, text, text) RETURNS void LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('raise_invalid'); END $$;
CREATE FUNCTION public.hijack_text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('='); RETURN true; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijack_text_eq);
CREATE FUNCTION public.hijack_ts_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('<'); RETURN true; END $$;
CREATE OPERATOR public.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.hijack_ts_lt);
CREATE FUNCTION public.hijack_ts_minus(timestamptz, interval) RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijacked('-'); RETURN '2000-01-01'; END $$;
CREATE OPERATOR public.- (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = public.hijack_ts_minus);
CREATE TABLE public.settings (idle_timeout interval, touch_resolution interval, context_messages integer,
                              cleanup_batch_size integer, agents text[], max_content_length integer);
INSERT INTO public.settings VALUES ('100 years', '0', 1, 1, '{hacker}', 1);
CREATE TABLE public.messages (id bigint, message_id uuid, session_id text, role text, content text,
                              created_at timestamptz);
CREATE TABLE public.session_message_counts (session_id text, message_count integer);
CREATE TABLE public.cleanup_runs (run_id bigint);
"""
PLANT_TEMP = """
CREATE TEMP TABLE "conversationSessions" (id text, "userId" text, agent text, title text, "chatId" text,
                                          "isActive" boolean, "lastActivity" timestamptz, "createdAt" timestamp,
                                          "updatedAt" timestamp);
CREATE TEMP TABLE "user" (id text, email text);
INSERT INTO pg_temp."user" VALUES ('u1', 'temp'), ('nobody', 'temp');
CREATE TEMP TABLE settings (idle_timeout interval, touch_resolution interval, context_messages integer,
                            cleanup_batch_size integer, agents text[], max_content_length integer);
INSERT INTO pg_temp.settings VALUES ('1 second', '0', 1, 1, '{hacker}', 1);
CREATE TEMP TABLE messages (id bigint, message_id uuid, session_id text, role text, content text,
                            created_at timestamptz);
CREATE TEMP TABLE "text" (x int);
CREATE TEMP TABLE "interval" (x int);
CREATE TEMP TABLE "bool" (x int);
"""
HIJACK_PATH = "pg_temp, public, pg_catalog"


def scripted_chat(call: Callable[[str, list[Any]], list[tuple[Any, ...]]]) -> list[Any]:
    """A chat's life through every session function, scoped to u1; what each call answered, with the generated
    ids and times replaced by placeholders. The script's own SQL names no operator or unqualified function:
    with the planted objects first on the search_path, they would fool the script itself."""
    first = call("SELECT * FROM session_manager.get_or_create_session('u1', 'geral', 'c9', 'Boleto')", [])
    sid = first[0][0]
    steps: list[tuple[str, list[Any]]] = [
        ("SELECT * FROM session_manager.get_or_create_session('u1', 'max', 'c9')", []),
        ("SELECT * FROM session_manager.get_or_create_session('u1', 'geral', 'c2')", []),  # own-stale: closed, new
        *[("SELECT * FROM session_manager.append_message(%s, 'user', %s)", [sid, c])
          for c in ("Oi", "Quero a segunda via", "x" * 10)],
        ("SELECT * FROM session_manager.get_context(%s, 2)", [sid]),
        ("SELECT * FROM session_manager.get_context(%s)", [sid]),
        ("SELECT session_manager.touch_session(%s)", [sid]),
        ("SELECT session_manager.touch_session('other-live')", []),
        ("SELECT session_manager.touch_session('nope')", []),
        ("SELECT session_manager.touch_sessions(ARRAY[%s, 'own-live', 'other-live', 'nope', 'own-live'])", [sid]),
        ("SELECT * FROM session_manager.get_session_info(%s)", [sid]),
        ("SELECT * FROM session_manager.list_user_sessions('u1', true)", []),
        ("SELECT * FROM session_manager.list_user_sessions('u2', true)", []),
        # Agent memory (issue 16): jsonb arguments passed typed (a cast would name a shadowed type).
        ("SELECT * FROM session_manager.append_messages(%s, %s)",
         [sid, Jsonb([{"role": "user", "content": "a", "agent_id": "max"},
                      {"role": "tool", "content": "", "agent_id": "max", "metadata": {"k": [1]}}])]),
        ("SELECT * FROM session_manager.append_message(%s, 'assistant', 'm', NULL, 'max', %s)", [sid, Jsonb({"x": 1})]),
        ("SELECT * FROM session_manager.get_context(%s, 3, 'max')", [sid]),
        ("SELECT * FROM session_manager.pop_message(%s)", [sid]),
        ("SELECT session_manager.trim_messages(%s, 1, 'max')", [sid]),
        ("SELECT session_manager.trim_messages(%s, 3)", [sid]),
        ("SELECT * FROM session_manager.find_chat_session('u1', 'c9')", []),
        ("SELECT * FROM session_manager.find_chat_session('u2', 'c1')", []),
        ("SELECT session_manager.clear_messages('other-live')", []),
        ("SELECT * FROM session_manager.pop_message(%s)", [sid]),
        ("SELECT session_manager.end_session(%s)", [sid]),
        ("SELECT session_manager.end_session(%s)", [sid]),
        ("SELECT session_manager.clear_messages(%s)", [sid]),
        ("SELECT session_manager.cleanup_old_sessions()", []),
        ("SELECT session_manager.version()", []),
        ("SELECT session_manager.append_message(%s, 'user', 'late')", [sid]),
        ("SELECT session_manager.append_message('other-live', 'user', 'x')", []),
        ("SELECT session_manager.append_message(%s, 'hacker', 'x')", [sid]),
        ("SELECT session_manager.append_message(%s, 'user', %s)", [sid, "y" * 70_000]),
        ("SELECT session_manager.get_or_create_session('u1', 'hacker', 'c1')", []),
        ("SELECT session_manager.get_or_create_session('nobody', 'geral', 'c1')", []),
        ("SELECT session_manager.touch_session('')", []),
    ]
    return normalized([first] + [call(sql, params) for sql, params in steps], sid)


def normalized(answers: Any, sid: str) -> Any:
    """Answers with the script's session as <sid>, other generated ids as <id>, times and uuids as placeholders;
    the rows of a set-returning call sorted."""
    def one(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return type(v)(one(x) for x in v)
        if isinstance(v, datetime):
            return "<time>"
        if isinstance(v, uuid.UUID):
            return "<uuid>"
        if isinstance(v, str) and re.fullmatch(r"[0-9a-f-]{36}", v):
            return "<sid>" if v == sid else "<id>"
        return v

    return [sorted(one(rows), key=repr) if isinstance(rows, list) else one(rows) for rows in answers]


def normalized_tables(owner: psycopg.Connection[Any]) -> list[Any]:
    """The package's rows without what differs between two runs (generated ids, timestamps)."""
    return owner.execute("""
        SELECT 'session', "userId", agent, "chatId", "isActive", "lastActivity" > now() - interval '1 minute',
               (SELECT message_count FROM session_manager.session_message_counts k WHERE k.session_id = c.id)
        FROM public."conversationSessions" c
        UNION ALL SELECT 'message', m.role, m.content, concat_ws('|', m.agent_id, m.metadata::text), NULL, NULL, NULL
        FROM session_manager.messages m
        UNION ALL SELECT 'run', r.source, r.deactivated::text, NULL, r.scoped, NULL, NULL
        FROM session_manager.cleanup_runs r
        ORDER BY 1, 2, 3, 4, 5, 6, 7""").fetchall()


def run_script(conn: psycopg.Connection[Any]) -> list[Any]:
    def call(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """One call in its own transaction, scoped to u1; an error is an answer too."""
        with conn.transaction():
            conn.execute("SELECT pg_catalog.set_config('session_manager.user_id', 'u1', true)")
            try:
                with conn.transaction():
                    return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]
            except psycopg.Error as exc:
                return [("error", exc.sqlstate)]
    return scripted_chat(call)


def run_client_script(manager: SessionManager) -> list[Any]:
    mine = manager.acting_as("u1")
    made = mine.get_or_create_session("u1", "geral", "c9", "Boleto")
    again = mine.get_or_create_session("u1", "max", "c9")
    stored = [mine.append_message(made.session_id, "user", c) for c in ("Oi", "Quero a segunda via")]
    context = mine.get_context(made.session_id, 1)
    info = mine.get_session_info(made.session_id)
    return [
        (made.user_id, made.chat_id, made.agent_id, made.is_active, made.message_count, made.last_activity is not None),
        again.session_id == made.session_id,
        [(m.role, m.content) for m in stored], [(m.role, m.content) for m in context],
        mine.touch_session(made.session_id), mine.touch_session("other-live"),
        mine.touch_sessions([made.session_id, "own-live", "other-live"]),
        info is not None and (info.is_active, info.message_count),
        len(mine.list_user_sessions("u1", include_inactive=True)), mine.list_user_sessions("u2"),
        mine.end_session(made.session_id), mine.end_session(made.session_id),
        mine.cleanup_old_sessions(), mine.version(),
        *agent_memory_client_script(mine, made.user_id),
    ]


def agent_memory_client_script(mine: SessionManager, user_id: str) -> list[Any]:
    """Issue 16's methods, on a session of their own (the script's first one is ended by now)."""
    s = mine.get_or_create_session(user_id, "geral", "c8")
    stored = mine.append_messages(s.session_id, [{"role": "user", "content": "a"},
                                                 {"role": "assistant", "content": "", "agent_id": "max",
                                                  "metadata": {"tool_calls": [{"id": "c1"}]}}])
    popped = mine.pop_message(s.session_id)
    found = mine.find_chat_session(user_id, "c8")
    return [[(m.role, m.content, m.agent_id, m.metadata) for m in stored],
            [(m.role, m.content) for m in mine.get_context(s.session_id, 5, agent_id="max")],
            popped is not None and (popped.role, popped.metadata), found is not None and found.message_count,
            mine.trim_messages(s.session_id, 0, agent_id="max"), mine.clear_messages(s.session_id),
            mine.find_chat_session("u2", "c1")]


def test_objects_planted_in_public_and_pg_temp_change_nothing_the_functions_do(
        db: str, roles: Roles, owner: psycopg.Connection[Any]) -> None:
    planter = roles.make("session_manager_app", extra="GRANT CREATE ON SCHEMA public TO {role}")
    started = time.monotonic()
    # The script without planted objects, then with them, from the same state; directly and through the client.
    with psycopg.connect(dsn_as(db, planter), autocommit=True) as conn:
        baseline = run_script(conn)
    baseline_tables = normalized_tables(owner)
    owner.execute(STATE)
    with SessionManager(dsn_as(db, planter), min_size=1, max_size=1, timeout=10.0) as manager:
        client_baseline = run_client_script(manager)
    client_baseline_tables = normalized_tables(owner)

    owner.execute(STATE)
    with psycopg.connect(dsn_as(db, planter), autocommit=True) as conn:
        conn.execute(PLANT)
        conn.execute(PLANT_TEMP)
        conn.execute(f"SET search_path = {HIJACK_PATH}")
        # The planted objects work where a caller's own query names them unqualified:
        shadowed = conn.execute("SELECT now() = '2000-01-01', 'a' = 'b'").fetchone()
        conn.execute("DELETE FROM public.hijack_calls")
        hijacked = run_script(conn)
        conn.execute("SET search_path = pg_catalog")
        temp_rows = conn.execute('SELECT (SELECT count(*) FROM pg_temp."conversationSessions"), '
                                 "(SELECT count(*) FROM pg_temp.messages), (SELECT count(*) FROM public.messages), "
                                 "(SELECT count(*) FROM public.session_message_counts), "
                                 "(SELECT count(*) FROM public.cleanup_runs)").fetchone()
    hijacked_tables = normalized_tables(owner)
    owner.execute(STATE)
    options = {"options": f"-c search_path={HIJACK_PATH.replace(' ', '')}"}
    with SessionManager(dsn_as(db, planter, **options), min_size=1, max_size=1, timeout=10.0) as manager:
        with manager.connection() as c:
            client_path = c.execute("SHOW search_path").fetchone()
        client_hijacked = run_client_script(manager)
    client_hijacked_tables = normalized_tables(owner)
    planted_calls = owner.execute("SELECT what, count(*) FROM public.hijack_calls GROUP BY 1 ORDER BY 1").fetchall()

    assert shadowed == (True, True), "the planted objects are not in effect for the caller's own queries"
    assert client_path == (HIJACK_PATH.replace(" ", ""),), client_path
    # The script did run: sessions made, messages stored, and each refusal its own SQLSTATE.
    errors = [rows[0][1] for rows in baseline if rows and rows[0][0] == "error"]
    assert errors == ["P0002", "55000", "55000", "P0002", "22023", "22001", "22023", "P0002", "22023"], errors
    assert baseline[0] == [("<sid>", "u1", "c9", "geral", True, "<time>", 0)], baseline[0]
    assert [m[3] for m in baseline[6]] == ["Quero a segunda via", "x" * 10], baseline[6]
    assert planted_calls == [], "the package ran a planted function"
    assert hijacked == baseline
    assert hijacked_tables == baseline_tables
    assert client_hijacked == client_baseline
    assert client_hijacked_tables == client_baseline_tables
    assert temp_rows == (0, 0, 0, 0, 0), "a planted table was written"
    record_proof("planted_objects", part=1,
                 title="Functions, operators and tables planted in public and pg_temp change nothing the package does",
                 workers="1 login role in session_manager_app with CREATE on public (psycopg and the client)",
                 inputs_tried="planted: public.now(), clock_timestamp(), gen_random_uuid(), current_setting(), "
                              "length(), scoped_user(), check_id(), raise_invalid(); operators public.= (text), "
                              "public.< (timestamptz), public.- (timestamptz, interval); tables public.settings, "
                              "messages, session_message_counts, cleanup_runs; temp tables conversationSessions, "
                              "user, settings, messages, and text/interval/bool shadowing the types; "
                              f"search_path = {HIJACK_PATH}",
                 operations=f"a scripted chat of {len(baseline)} calls (every session function, errors included) "
                            f"and a client script of {len(client_baseline)} calls, each run with and without them",
                 duration_s=round(time.monotonic() - started, 1),
                 rows_checked=f"{len(baseline) + len(client_baseline)} answers and the package's "
                              f"{len(baseline_tables) + len(client_baseline_tables)} rows compared; every planted "
                              "function logs its calls",
                 failures="0 differences, 0 calls of a planted function from the package, 0 rows in planted tables")
