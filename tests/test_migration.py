"""The sqitch changes on a database the application already fills (issue 3).

Each test makes its own database (``server.create_app_database``), deploys, reverts and
deploys again with sqitch, and checks the application's rows by count and checksum, the
catalog of its two tables, and that its own writes keep working. Nothing here uses the
shared template: a migration test must start from the application's database as it is
before the package.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import Server

ROOT = Path(__file__).resolve().parent.parent
NEW_COLUMNS = ("lastActivity", "isActive", "chatId")
# Not this cluster's TimeZone (UTC): a backfill that read "updatedAt" as UTC would show here.
APP_TIMEZONE = "America/Sao_Paulo"

# The application's data: its columns of "conversationSessions" and every column of "user".
APP_DATA = """
SELECT (SELECT count(*) FROM public."conversationSessions"),
       (SELECT md5(string_agg(row(s.id, s."userId", s.agent, s.title, s."createdAt", s."updatedAt")::text,
                              E'\\n' ORDER BY s.id))
        FROM public."conversationSessions" s),
       (SELECT count(*) FROM public."user"),
       (SELECT md5(string_agg(u::text, E'\\n' ORDER BY u.id)) FROM public."user" u)
"""

# What a revert must give back exactly: the columns, indexes, constraints, triggers, storage
# options, row security and grants of the application's two tables (grants as in effect: a GRANT
# undone by a REVOKE leaves the owner's default rights spelled out, which is the same thing).
APP_CATALOG = """
WITH t(oid) AS (VALUES ('public."user"'::regclass), ('public."conversationSessions"'::regclass))
SELECT array_agg(x ORDER BY x) FROM (
  SELECT format('column %s.%s %s not null=%s default=%s', a.attrelid::regclass, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute a JOIN t ON a.attrelid = t.oid
  LEFT JOIN pg_attrdef d ON (d.adrelid, d.adnum) = (a.attrelid, a.attnum)
  WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('index %s valid=%s', pg_get_indexdef(i.indexrelid), i.indisvalid)
  FROM pg_index i JOIN t ON i.indrelid = t.oid
  UNION ALL
  SELECT format('constraint %s %s', c.conname, pg_get_constraintdef(c.oid))
  FROM pg_constraint c WHERE c.conrelid IN (SELECT oid FROM t) OR c.confrelid IN (SELECT oid FROM t)
  UNION ALL
  SELECT format('trigger %s', pg_get_triggerdef(g.oid)) FROM pg_trigger g JOIN t ON g.tgrelid = t.oid
  WHERE NOT g.tgisinternal
  UNION ALL
  SELECT format('table %s options=%s rls=%s/%s acl=%s', c.oid::regclass, c.reloptions, c.relrowsecurity,
                c.relforcerowsecurity, coalesce(c.relacl, acldefault('r', c.relowner)))
  FROM pg_class c JOIN t ON c.oid = t.oid
  UNION ALL
  SELECT format('policy %s', p.polname) FROM pg_policy p JOIN t ON p.polrelid = t.oid
) AS s(x)
"""

NEW_COLUMNS_PRESENT = """
SELECT array_agg(attname::text ORDER BY attname) FROM pg_attribute
WHERE attrelid = 'public."conversationSessions"'::regclass AND attname = ANY (%s) AND NOT attisdropped
"""

INDEX_CHANGES = {
    # change: (its index, the change just before it in sqitch.plan)
    "sessions_active_chat_index": ("conversation_sessions_one_active_chat", "session_fillfactor"),
    "sessions_active_index": ("conversation_sessions_active_user", "sessions_active_chat_index"),
    "sessions_user_index": ("conversation_sessions_user", "sessions_active_index"),
}
LAST_INDEX_CHANGE = "sessions_user_index"


@pytest.fixture()
def dbname(server: Server, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database name of this test's own, dropped at the end."""
    name = "sm_mig_" + request.node.name[5:30].strip("_[]").replace("-", "_") + "_" + uuid.uuid4().hex[:6]
    yield name
    server.drop(name)


def query(server: Server, dbname: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def scalar(server: Server, dbname: str, sql: str, params: Any = None) -> Any:
    return query(server, dbname, sql, params)[0][0]


def deploy(server: Server, dbname: str, *args: str) -> None:
    server.sqitch("deploy", dbname, "--set", "schedule=off", *args)


def revert(server: Server, dbname: str, *args: str) -> None:
    server.sqitch("revert", dbname, "-y", "--set", "schedule=off", *args)


def verify(server: Server, dbname: str, check: bool = True) -> Any:
    return server.sqitch("verify", dbname, "--set", "schedule=off", check=check)


def package_present(server: Server, dbname: str) -> tuple[bool, list[str]]:
    """Whether schema session_manager exists, and which of the new columns do."""
    schema = scalar(server, dbname, "SELECT to_regnamespace('session_manager') IS NOT NULL")
    columns = scalar(server, dbname, NEW_COLUMNS_PRESENT, [list(NEW_COLUMNS)]) or []
    return schema, columns


def test_deploy_revert_deploy_keeps_every_application_row(server: Server, dbname: str) -> None:
    server.create_app_database(dbname, seed_sessions=5000)
    data = query(server, dbname, APP_DATA)[0]
    catalog = scalar(server, dbname, APP_CATALOG)
    assert data[0] == 5000 and data[2] == 500

    deploy(server, dbname)
    assert query(server, dbname, APP_DATA)[0] == data, "deploy changed the application's rows"
    verify(server, dbname)
    assert package_present(server, dbname) == (True, sorted(NEW_COLUMNS))
    assert scalar(server, dbname, """SELECT count(*) FROM public."conversationSessions"
                                     WHERE "lastActivity" IS DISTINCT FROM "updatedAt"::timestamptz""") == 0

    revert(server, dbname)
    assert query(server, dbname, APP_DATA)[0] == data, "revert changed the application's rows"
    assert package_present(server, dbname) == (False, [])
    assert scalar(server, dbname, APP_CATALOG) == catalog, "revert left the application's tables changed"

    deploy(server, dbname)
    assert query(server, dbname, APP_DATA)[0] == data, "the second deploy changed the application's rows"
    verify(server, dbname)
    assert scalar(server, dbname, """SELECT count(*) FROM public."conversationSessions"
                                     WHERE "lastActivity" IS DISTINCT FROM "updatedAt"::timestamptz""") == 0


def test_existing_sessions_keep_their_last_activity_from_updated_at(server: Server, dbname: str) -> None:
    server.create_app_database(dbname)
    server.execute("postgres", f"ALTER DATABASE \"{dbname}\" SET timezone = '{APP_TIMEZONE}'")
    # The application writes "updatedAt" as now() read in the server's TimeZone.
    server.psql_file(dbname, ROOT / "scripts" / "app_seed.sql", sessions="500", users="50")
    server.execute(dbname, """
        INSERT INTO public."conversationSessions" (id, "userId", agent, "createdAt", "updatedAt") VALUES
          ('idle-two-days', 'user-1', 'geral', localtimestamp - interval '3 days', localtimestamp - interval '2 days'),
          ('used-just-now', 'user-1', 'geral', localtimestamp - interval '1 hour', localtimestamp)""")

    deploy(server, dbname)

    assert scalar(server, dbname, "SHOW timezone") == APP_TIMEZONE
    assert scalar(server, dbname, f"""SELECT count(*) FROM public."conversationSessions"
        WHERE "lastActivity" IS DISTINCT FROM "updatedAt" AT TIME ZONE '{APP_TIMEZONE}'""") == 0
    idle = scalar(server, dbname, "SELECT is_active FROM session_manager.get_session_info('idle-two-days')")
    assert idle is False, "a session idle for two days looks live after the deploy"
    assert scalar(server, dbname, """SELECT now() - last_activity BETWEEN interval '47 hours' AND interval '49 hours'
                                     FROM session_manager.get_session_info('idle-two-days')""")
    assert scalar(server, dbname, "SELECT is_active FROM session_manager.get_session_info('used-just-now')") is True
    # Seeded "updatedAt" is a minute apart per session over five days: a few dozen are live, not all.
    assert scalar(server, dbname, """SELECT count(*) FROM public."conversationSessions"
                                     WHERE "lastActivity" >= now() - interval '30 minutes'""") < 50


PUBLIC_RELATIONS = "SELECT oid::regclass::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1"


@pytest.mark.parametrize("present", [[], ["user"]], ids=["no_tables", "only_user"])
def test_deploy_without_the_application_tables_fails_and_leaves_only_the_registry(
        server: Server, dbname: str, present: list[str]) -> None:
    server.drop(dbname)
    server.execute("postgres", f'CREATE DATABASE "{dbname}"')
    if present:
        server.execute(dbname, 'CREATE TABLE public."user" (id text PRIMARY KEY, email text)')
    relations_before = query(server, dbname, PUBLIC_RELATIONS)

    proc = server.sqitch("deploy", dbname, "--set", "schedule=off", check=False)

    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "conversationSessions" in output
    assert "+ schema" not in output and "+ session_columns" not in output, "deploy went on past the check"
    assert scalar(server, dbname, "SELECT to_regnamespace('session_manager') IS NULL")
    assert query(server, dbname, PUBLIC_RELATIONS) == relations_before
    assert query(server, dbname, """SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'
                                    AND nspname NOT IN ('public', 'information_schema') ORDER BY 1""") == [("sqitch",)]
    assert scalar(server, dbname, "SELECT count(*) FROM sqitch.changes") == 0
    status = server.sqitch("status", dbname, check=False)
    assert "No changes deployed" in status.stdout + status.stderr, status.stdout + status.stderr


APP_WRITES = """
INSERT INTO public."user" (id, email, name) VALUES ('app-user-{tag}', 'app-{tag}@example.com', 'App');
INSERT INTO public."conversationSessions" (id, "userId", agent, title)
VALUES ('app-{tag}-1', 'app-user-{tag}', 'geral', 'Nova conversa'),
       ('app-{tag}-2', 'app-user-{tag}', 'max', NULL),
       ('app-{tag}-3', 'user-1', 'financeiro', 'Outra');
UPDATE public."conversationSessions" SET title = 'Renomeada', "updatedAt" = now() WHERE id = 'app-{tag}-1';
"""


def application_writes(server: Server, dbname: str, owner: str, tag: str, deployed: bool) -> None:
    """What the application's ORM does, as the tables' owner: insert, update, read, delete."""
    with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
        conn.execute(f'SET ROLE "{owner}"')  # type: ignore[arg-type]
        with conn.transaction():
            conn.execute(APP_WRITES.format(tag=tag))  # type: ignore[arg-type]
        rows = conn.execute("""SELECT id, title FROM public."conversationSessions"
                               WHERE "userId" = %s ORDER BY "updatedAt" DESC, id""", [f"app-user-{tag}"]).fetchall()
        assert rows == [(f"app-{tag}-1", "Renomeada"), (f"app-{tag}-2", None)]
        if deployed:
            new = conn.execute("""SELECT "isActive", "chatId", "lastActivity" > now() - interval '1 minute'
                                  FROM public."conversationSessions" WHERE id = %s""", [f"app-{tag}-2"]).fetchone()
            assert new == (True, None, True)
            conn.execute("RESET ROLE")
            conn.execute("SELECT session_manager.append_message(%s, 'user', 'olá')", [f"app-{tag}-1"])
            conn.execute(f'SET ROLE "{owner}"')  # type: ignore[arg-type]
        conn.execute('DELETE FROM public."conversationSessions" WHERE id = %s', [f"app-{tag}-3"])
        conn.execute('DELETE FROM public."user" WHERE id = %s', [f"app-user-{tag}"])
        left = conn.execute("""SELECT count(*) FROM public."conversationSessions" WHERE id LIKE %s""",
                            [f"app-{tag}-%"]).fetchone()
        assert left == (0,), "deleting the user did not cascade to its sessions"
        if deployed:
            conn.execute("RESET ROLE")
            orphans = conn.execute("SELECT count(*) FROM session_manager.messages WHERE session_id LIKE %s",
                                   [f"app-{tag}-%"]).fetchone()
            assert orphans == (0,), "deleting the session did not cascade to its messages"


def test_application_writes_keep_working_after_deploy_and_after_revert(server: Server, dbname: str) -> None:
    owner = dbname + "_owner"
    server.create_app_database(dbname, seed_sessions=200)
    server.execute("postgres", f'DROP ROLE IF EXISTS "{owner}"; CREATE ROLE "{owner}" NOLOGIN')
    try:
        server.execute(dbname, f'ALTER TABLE public."user" OWNER TO "{owner}";'
                               f'ALTER TABLE public."conversationSessions" OWNER TO "{owner}"')
        application_writes(server, dbname, owner, "before", deployed=False)
        deploy(server, dbname)
        application_writes(server, dbname, owner, "deployed", deployed=True)
        revert(server, dbname)
        application_writes(server, dbname, owner, "reverted", deployed=False)
        deploy(server, dbname)
        application_writes(server, dbname, owner, "redeployed", deployed=True)
    finally:
        server.drop(dbname)
        server.execute("postgres", f'DROP ROLE IF EXISTS "{owner}"')


def leave_invalid_index(server: Server, dbname: str, index: str) -> None:
    """An INVALID index of that name, as a failed CREATE INDEX CONCURRENTLY leaves it."""
    with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
        conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS public.{index}")  # type: ignore[arg-type]
        # Every agent is shared by many sessions: the unique build fails and stays behind.
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(f'CREATE UNIQUE INDEX CONCURRENTLY {index} ON public."conversationSessions" (agent)')  # type: ignore[arg-type]
    assert index_state(server, dbname, index) == [(False, "agent")]


def index_state(server: Server, dbname: str, index: str) -> list[tuple[Any, ...]]:
    """(indisvalid, first key column) of the index, or no row when it does not exist."""
    return query(server, dbname, """SELECT i.indisvalid, pg_get_indexdef(i.indexrelid, 1, true) FROM pg_index i
                                    WHERE i.indexrelid = to_regclass(%s)""", [f"public.{index}"])


@pytest.mark.parametrize("change", sorted(INDEX_CHANGES))
def test_index_change_replaces_an_invalid_leftover_and_verify_rejects_it(
        server: Server, dbname: str, change: str) -> None:
    index, previous = INDEX_CHANGES[change]
    # The schema changes alone, up to the last index: the functions after them do not matter here.
    upto = ("--to", LAST_INDEX_CHANGE)
    server.create_app_database(dbname, seed_sessions=300)
    deploy(server, dbname, *upto)
    key = index_state(server, dbname, index)
    assert key and key[0][0] is True

    leave_invalid_index(server, dbname, index)
    failed = server.sqitch("verify", dbname, "--to-change", LAST_INDEX_CHANGE, check=False)
    assert failed.returncode != 0, "verify passed while the index is INVALID"
    assert change in failed.stdout + failed.stderr

    # Running the change's deploy script again (it is idempotent) mends it in place.
    server.psql_file(dbname, ROOT / "deploy" / f"{change}.sql")
    assert index_state(server, dbname, index) == key
    server.sqitch("verify", dbname, "--to-change", LAST_INDEX_CHANGE)

    # And through sqitch: back to the change before, an earlier attempt's leftover, deploy.
    revert(server, dbname, "--to", previous)
    assert index_state(server, dbname, index) == []
    leave_invalid_index(server, dbname, index)
    deploy(server, dbname, *upto)
    assert index_state(server, dbname, index) == key
    server.sqitch("verify", dbname, "--to-change", LAST_INDEX_CHANGE)
