"""Deploying as a role that is not superuser, as on a managed PostgreSQL: it owns the
application's tables; an administrator made the roles (or granted CREATEROLE) and the grants."""
from __future__ import annotations

import psycopg

from conftest import ROOT, Server

DEPLOYER = "sm_deployer"
DB = "sm_nonsuper"


def test_a_non_superuser_owner_deploys_verifies_and_reverts(server: Server, template: str) -> None:
    # What the administrator runs (README, "Deploying without superuser").
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"DROP ROLE IF EXISTS {DEPLOYER}")
        conn.execute(f"CREATE ROLE {DEPLOYER} LOGIN NOSUPERUSER CREATEROLE")
        conn.execute(f"GRANT pg_read_all_stats TO {DEPLOYER}")
        conn.execute(f"CREATE DATABASE {DB} OWNER {DEPLOYER}")
    try:
        deployer = Server(server.dsn("postgres", user=DEPLOYER))
        # The application's ORM creates its tables as the deployer (their owner).
        deployer.psql_file(DB, ROOT / "scripts" / "app_schema.sql")
        with psycopg.connect(deployer.dsn(DB), autocommit=True) as conn:
            conn.execute("""INSERT INTO public."user" (id, email) VALUES ('u1', 'u1@example.com')""")
            conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent)
                            VALUES ('s1', 'u1', 'geral')""")
            row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
            assert row == (False,)
        deployer.sqitch("deploy", DB, "--set", "schedule=off")
        deployer.sqitch("verify", DB, "--set", "schedule=off")
        with psycopg.connect(deployer.dsn(DB), autocommit=True) as conn:
            assert conn.execute("SELECT session_manager.touch_session('s1')").fetchone() == (True,)
            info = conn.execute("SELECT * FROM session_manager.get_or_create_session('u1', 'geral', 'c1')").fetchone()
            assert info is not None and info[2] == "c1"
        deployer.sqitch("revert", DB, "-y")
        with psycopg.connect(deployer.dsn(DB), autocommit=True) as conn:
            assert conn.execute("SELECT to_regnamespace('session_manager')").fetchone() == (None,)
            assert conn.execute("""SELECT count(*) FROM public."conversationSessions" """).fetchone() == (2,)
    finally:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {DEPLOYER}")
