"""The cleanup job yields to the chat (issue 18): run_cleanup_job pauses cleanup_batch_pause after each
committed batch and starts no batch once its run has taken cleanup_time_budget, leaving the rest to the
next run; the counts stay exact. (A procedure that commits: pgTAP's rolled-back transaction cannot hold
it.) No assertion here depends on how fast the machine is: the budget bounds a run's batches from above
whatever the speed, and every run deactivates at least one batch."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest


def one(conn: psycopg.Connection, sql: str, *args: Any) -> Any:
    row = conn.execute(sql, args).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0] if len(row) == 1 else row


@pytest.fixture()
def idle_200(conn: psycopg.Connection) -> Iterator[None]:
    """200 active sessions idle for two hours (past the 30-minute timeout), batches of 10."""
    conn.execute("""INSERT INTO public."user" (id, email) VALUES ('pace-user', 'pace@example.com')""")
    conn.execute("""INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity")
                    SELECT 'pace-' || i, 'pace-user', 'geral', now() - interval '2 hours'
                    FROM generate_series(1, 200) AS i""")
    conn.execute("UPDATE session_manager.settings SET cleanup_batch_size = 10")
    yield
    conn.execute("UPDATE session_manager.settings SET cleanup_batch_size = DEFAULT, cleanup_batch_pause = DEFAULT, "
                 "cleanup_time_budget = DEFAULT")
    conn.execute("""DELETE FROM public."user" WHERE id = 'pace-user'""")


def active(conn: psycopg.Connection) -> int:
    return int(one(conn, """SELECT count(*) FROM public."conversationSessions"
                            WHERE id LIKE 'pace-%%' AND "isActive" """))


def last_run(conn: psycopg.Connection) -> int:
    return int(one(conn, "SELECT deactivated FROM session_manager.cleanup_history LIMIT 1"))


def test_a_run_past_its_time_budget_leaves_the_rest_to_the_next_run(conn: psycopg.Connection, idle_200: None) -> None:
    # 100 ms after each batch and a budget of 1 s: at most 10 batches of 10 (the pause counts in the budget).
    conn.execute("UPDATE session_manager.settings SET cleanup_batch_pause = '100 ms', cleanup_time_budget = '1 s'")
    totals_before = one(conn, "SELECT deactivated FROM session_manager.cleanup_totals")
    conn.execute("CALL session_manager.run_cleanup_job()")
    first = last_run(conn)
    assert 10 <= first <= 100, first
    assert active(conn) == 200 - first, "the run's record counts exactly what it committed"
    runs = 1
    while active(conn) > 0 and runs < 30:
        conn.execute("CALL session_manager.run_cleanup_job()")
        runs += 1
    assert active(conn) == 0, "the next runs carry on where the budget stopped the first"
    assert runs >= 2
    assert one(conn, "SELECT deactivated FROM session_manager.cleanup_totals") - totals_before == 200


def test_without_a_pause_one_run_clears_the_whole_backlog(conn: psycopg.Connection, idle_200: None) -> None:
    conn.execute("UPDATE session_manager.settings SET cleanup_batch_pause = '0', cleanup_time_budget = '1 hour'")
    conn.execute("CALL session_manager.run_cleanup_job()")
    assert last_run(conn) == 200
    assert active(conn) == 0


def test_the_pacing_settings_refuse_what_makes_no_sense(conn: psycopg.Connection) -> None:
    for assignment in ("cleanup_batch_pause = '-1 ms'", "cleanup_batch_pause = '1 minute'",
                       "cleanup_batch_pause = '-1 mon 31 days'", "cleanup_time_budget = '0'",
                       "cleanup_time_budget = '2 days'"):
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(f"UPDATE session_manager.settings SET {assignment}")  # type: ignore[arg-type]
