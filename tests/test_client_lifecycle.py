"""A chat session's whole life through the client, in pg_cron's database: created, messages, touches,
idle, deactivated by the scheduled job itself (one real run, waited for on its run record), and a new
session for the same chat afterwards."""
from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from session_manager import SessionManager, SessionNotLiveError

pytest_plugins = ["client_fixtures"]


def wait_for_cron_run(conn: psycopg.Connection, job: str, after: object, seconds: float = 130) -> tuple[str, str]:
    """The first run of `job` that started after `after` and finished: (status, message)."""
    deadline = time.monotonic() + seconds  # pg_cron runs on the minute: at most ~60 s away
    while time.monotonic() < deadline:
        run = conn.execute("""SELECT d.status, d.return_message
                              FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                              WHERE j.jobname = %s AND d.start_time > %s AND d.status IN ('succeeded', 'failed')
                              ORDER BY d.runid LIMIT 1""", (job, after)).fetchone()
        if run is not None:
            return str(run[0]), str(run[1])
        time.sleep(0.5)
    raise AssertionError(f"pg_cron did not run {job} within {seconds} s")


@pytest.mark.slow
def test_a_chat_session_lives_goes_idle_is_cleaned_by_pg_cron_and_is_replaced(server: object, cron_db: str) -> None:
    dsn = server.dsn(cron_db)  # type: ignore[attr-defined]
    user, chat = "lifecycle-" + uuid.uuid4().hex[:8], "5511999999999@c.us"
    with psycopg.connect(dsn, autocommit=True) as su, SessionManager(dsn, min_size=1, max_size=2) as sessions:
        su.execute('INSERT INTO public."user" (id, email) VALUES (%s, %s)', (user, user + "@example.com"))
        try:
            s = sessions.get_or_create_session(user_id=user, agent="financeiro", chat_id=chat, title="gastos")
            assert sessions.get_or_create_session(user, "financeiro", chat_id=chat).session_id == s.session_id
            for role, text in [("user", "quanto gastei?"), ("assistant", "R$ 120"), ("user", "obrigado")]:
                sessions.append_message(s.session_id, role=role, content=text)
            assert sessions.touch_session(s.session_id) is True
            info = sessions.get_session_info(s.session_id)
            assert info is not None and info.is_active and info.message_count == 3

            # Nobody writes for two hours: the session is idle, no longer live, not yet cleaned.
            row = su.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '2 hours'
                                WHERE id = %s RETURNING clock_timestamp()""", (s.session_id,)).fetchone()
            assert row is not None
            assert sessions.touch_session(s.session_id) is False
            with pytest.raises(SessionNotLiveError):
                sessions.append_message(s.session_id, "user", "ainda aí?")

            status, message = wait_for_cron_run(su, f"session_manager_cleanup_{cron_db}", row[0])
            assert status == "succeeded", message
            active = su.execute('SELECT "isActive" FROM public."conversationSessions" WHERE id = %s',
                                (s.session_id,)).fetchone()
            assert active == (False,)  # deactivated by the job (soft: the row and its messages stay)
            assert [m.content for m in sessions.get_context(s.session_id)] == ["quanto gastei?", "R$ 120", "obrigado"]
            assert s.session_id not in [x.session_id for x in sessions.list_user_sessions(user)]

            fresh = sessions.get_or_create_session(user, "financeiro", chat_id=chat)
            assert fresh.session_id != s.session_id and fresh.is_active and fresh.message_count == 0
            sessions.append_message(fresh.session_id, "user", "oi de novo")
            assert [x.session_id for x in sessions.list_user_sessions(user, include_inactive=True)] == [
                fresh.session_id, s.session_id]
        finally:
            su.execute('DELETE FROM public."user" WHERE id = %s', (user,))
