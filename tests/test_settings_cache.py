"""A plain UPDATE of session_manager.settings takes effect at the next call in every session,
including sessions whose touch_session plan already folded the old cached value."""
from __future__ import annotations

import psycopg


def test_settings_update_reaches_a_session_with_a_cached_plan(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as app, psycopg.connect(db, autocommit=True) as dba:
        dba.execute("""INSERT INTO public."user" (id, email) VALUES ('cache-u', 'c@example.com')""")
        dba.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity")
                       VALUES ('cache-s', 'cache-u', 'geral', now() - interval '2 hours')""")
        for _ in range(10):  # past plpgsql's and the plan cache's first executions: a generic, cached plan
            assert app.execute("SELECT session_manager.touch_session('cache-s')").fetchone() == (False,)
        try:
            dba.execute("UPDATE session_manager.settings SET idle_timeout = '3 hours'")
            assert app.execute("SELECT session_manager.touch_session('cache-s')").fetchone() == (True,)
            dba.execute("UPDATE session_manager.settings SET idle_timeout = '1 minute'")
            dba.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '2 minutes'
                           WHERE id = 'cache-s'""")
            assert app.execute("SELECT session_manager.touch_session('cache-s')").fetchone() == (False,)
        finally:
            dba.execute("UPDATE session_manager.settings SET idle_timeout = DEFAULT")
            dba.execute("""DELETE FROM public."user" WHERE id = 'cache-u'""")


def test_a_rolled_back_settings_update_leaves_the_cache_as_it_was(db: str) -> None:
    with psycopg.connect(db) as dba:
        dba.execute("UPDATE session_manager.settings SET touch_resolution = '10 seconds'")
        dba.rollback()
        row = dba.execute("""SELECT session_manager.cached_touch_resolution() = s.touch_resolution
                             FROM session_manager.settings s""").fetchone()
        assert row == (True,)
