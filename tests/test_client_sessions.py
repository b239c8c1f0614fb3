"""Every public method of SessionManager against the real package: normal paths and edges."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_manager import Message, SessionInfo, SessionManager

pytest_plugins = ["client_fixtures"]


def test_version_is_the_deployed_package_version(sessions: SessionManager, package_version: str) -> None:
    assert sessions.version() == package_version


def test_get_or_create_with_chat_returns_a_typed_live_session(sessions: SessionManager,
                                                              new_user: Callable[[], str]) -> None:
    user = new_user()
    s = sessions.get_or_create_session(user_id=user, agent="geral", chat_id="5511999999999@c.us", title="oi")
    assert isinstance(s, SessionInfo)
    assert (s.user_id, s.chat_id, s.agent_id, s.is_active, s.message_count) == (
        user, "5511999999999@c.us", "geral", True, 0)
    assert s.last_activity.tzinfo is not None
    with pytest.raises(AttributeError):
        s.is_active = False  # type: ignore[misc]


def test_get_or_create_with_same_chat_returns_the_same_session(sessions: SessionManager,
                                                               new_user: Callable[[], str]) -> None:
    user = new_user()
    first = sessions.get_or_create_session(user_id=user, agent="geral", chat_id="c1")
    again = sessions.get_or_create_session(user_id=user, agent="max", chat_id="c1")
    assert again.session_id == first.session_id
    assert again.agent_id == "geral"  # whatever its agent
    assert again.last_activity >= first.last_activity


def test_get_or_create_without_chat_always_creates_a_new_session(sessions: SessionManager,
                                                                  new_user: Callable[[], str]) -> None:
    user = new_user()
    a = sessions.get_or_create_session(user, "financeiro")
    b = sessions.get_or_create_session(user, "financeiro")
    assert a.session_id != b.session_id
    assert a.chat_id is None


def test_get_or_create_for_idle_chat_session_creates_a_new_one(sessions: SessionManager,
                                                               new_user: Callable[[], str],
                                                               make_idle: Callable[[str], None]) -> None:
    user = new_user()
    old = sessions.get_or_create_session(user, "geral", chat_id="c2")
    make_idle(old.session_id)
    new = sessions.get_or_create_session(user, "geral", chat_id="c2")
    assert new.session_id != old.session_id
    closed = sessions.get_session_info(old.session_id)
    assert closed is not None and not closed.is_active


def test_touch_of_live_session_returns_true_and_moves_last_activity(sessions: SessionManager,
                                                                    new_user: Callable[[], str],
                                                                    conn: psycopg.Connection) -> None:
    s = sessions.get_or_create_session(new_user(), "geral", chat_id="t1")
    conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '5 minutes'
                    WHERE id = %s""", (s.session_id,))
    assert sessions.touch_session(s.session_id) is True
    info = sessions.get_session_info(s.session_id)
    assert info is not None and info.last_activity >= s.last_activity


def test_touch_of_unknown_session_returns_false(sessions: SessionManager) -> None:
    assert sessions.touch_session("no-such-session") is False


def test_touch_of_inactive_session_returns_false(sessions: SessionManager, new_user: Callable[[], str]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    assert sessions.end_session(s.session_id) is True
    assert sessions.touch_session(s.session_id) is False


def test_touch_of_idle_session_returns_false_and_changes_nothing(sessions: SessionManager,
                                                                 new_user: Callable[[], str],
                                                                 make_idle: Callable[[str], None]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    make_idle(s.session_id)
    before = sessions.get_session_info(s.session_id)
    assert sessions.touch_session(s.session_id) is False
    assert sessions.get_session_info(s.session_id) == before


def test_touch_sessions_counts_distinct_live_ids(sessions: SessionManager, new_user: Callable[[], str],
                                                 make_idle: Callable[[str], None]) -> None:
    user = new_user()
    live = [sessions.get_or_create_session(user, "geral").session_id for _ in range(3)]
    idle = sessions.get_or_create_session(user, "geral").session_id
    make_idle(idle)
    assert sessions.touch_sessions([*live, live[0], idle, "unknown"]) == 3
    assert sessions.touch_sessions(tuple(live[:2])) == 2


def test_touch_sessions_of_empty_list_returns_zero(sessions: SessionManager) -> None:
    assert sessions.touch_sessions([]) == 0


def test_touch_sessions_refuses_a_bare_string(sessions: SessionManager) -> None:
    with pytest.raises(TypeError):
        sessions.touch_sessions("abc")


def test_end_session_deactivates_once(sessions: SessionManager, new_user: Callable[[], str]) -> None:
    s = sessions.get_or_create_session(new_user(), "max", chat_id="e1")
    assert sessions.end_session(s.session_id) is True
    assert sessions.end_session(s.session_id) is False
    assert sessions.end_session("no-such-session") is False
    info = sessions.get_session_info(s.session_id)
    assert info is not None and info.is_active is False


def test_append_message_returns_the_stored_message_and_counts_it(sessions: SessionManager,
                                                                 new_user: Callable[[], str]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral", chat_id="a1")
    m = sessions.append_message(s.session_id, role="user", content="oi, tudo bem? ✓")
    assert isinstance(m, Message) and isinstance(m.message_id, uuid.UUID)
    assert (m.session_id, m.role, m.content) == (s.session_id, "user", "oi, tudo bem? ✓")
    assert m.created_at.tzinfo is not None
    info = sessions.get_session_info(s.session_id)
    assert info is not None and info.message_count == 1


def test_append_message_with_same_id_and_content_returns_stored_row_once(sessions: SessionManager,
                                                                         new_user: Callable[[], str]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral", chat_id="a2")
    mid = uuid.uuid4()
    first = sessions.append_message(s.session_id, "assistant", "resposta", message_id=mid)
    again = sessions.append_message(s.session_id, "assistant", "resposta", message_id=mid)
    assert first == again and first.message_id == mid
    info = sessions.get_session_info(s.session_id)
    assert info is not None and info.message_count == 1


def test_append_retry_of_stored_message_succeeds_after_session_ended(sessions: SessionManager,
                                                                     new_user: Callable[[], str]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    mid = uuid.uuid4()
    stored = sessions.append_message(s.session_id, "user", "x", message_id=mid)
    sessions.end_session(s.session_id)
    assert sessions.append_message(s.session_id, "user", "x", message_id=mid) == stored


def test_message_repr_hides_the_content(sessions: SessionManager, new_user: Callable[[], str]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    m = sessions.append_message(s.session_id, "user", "my secret plan")
    assert "secret" not in repr(m) and "14 characters" in repr(m)


def test_get_context_returns_last_messages_oldest_first(sessions: SessionManager,
                                                        new_user: Callable[[], str]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral", chat_id="g1")
    for i in range(5):
        sessions.append_message(s.session_id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    assert [m.content for m in sessions.get_context(s.session_id)] == ["m0", "m1", "m2", "m3", "m4"]
    assert [m.content for m in sessions.get_context(s.session_id, max_messages=2)] == ["m3", "m4"]
    assert [m.role for m in sessions.get_context(s.session_id, 2)] == ["assistant", "user"]


def test_get_context_defaults_to_the_context_messages_setting(sessions: SessionManager,
                                                              new_user: Callable[[], str],
                                                              conn: psycopg.Connection) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    for i in range(4):
        sessions.append_message(s.session_id, "user", f"n{i}")
    conn.execute("UPDATE session_manager.settings SET context_messages = 3")
    try:
        assert [m.content for m in sessions.get_context(s.session_id)] == ["n1", "n2", "n3"]
    finally:
        conn.execute("UPDATE session_manager.settings SET context_messages = DEFAULT")


def test_get_context_of_unknown_session_is_empty(sessions: SessionManager) -> None:
    assert sessions.get_context("no-such-session") == []


def test_get_context_with_huge_limit_returns_everything(sessions: SessionManager, new_user: Callable[[], str]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    sessions.append_message(s.session_id, "user", "only")
    assert len(sessions.get_context(s.session_id, max_messages=2_000_000_000)) == 1


def test_get_session_info_of_unknown_session_is_none(sessions: SessionManager) -> None:
    assert sessions.get_session_info("no-such-session") is None


def test_get_session_info_reports_idle_session_as_not_active(sessions: SessionManager,
                                                             new_user: Callable[[], str],
                                                             make_idle: Callable[[str], None]) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    make_idle(s.session_id)
    info = sessions.get_session_info(s.session_id)
    assert info is not None and info.session_id == s.session_id
    assert info.is_active is False  # active but idle past the timeout: treated as inactive


def test_list_user_sessions_lists_active_most_recent_first(sessions: SessionManager, new_user: Callable[[], str],
                                                           conn: psycopg.Connection) -> None:
    user = new_user()
    a = sessions.get_or_create_session(user, "geral", chat_id="l1")
    b = sessions.get_or_create_session(user, "max", chat_id="l2")
    c = sessions.get_or_create_session(user, "financeiro", chat_id="l3")
    conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '10 minutes'
                    WHERE id = %s""", (a.session_id,))
    sessions.end_session(c.session_id)
    listed = sessions.list_user_sessions(user)
    assert [s.session_id for s in listed] == [b.session_id, a.session_id]
    everything = sessions.list_user_sessions(user, include_inactive=True)
    assert {s.session_id for s in everything} == {a.session_id, b.session_id, c.session_id}


def test_list_user_sessions_of_unknown_user_is_empty(sessions: SessionManager) -> None:
    assert sessions.list_user_sessions("nobody") == []


def test_cleanup_deactivates_idle_sessions_and_returns_the_count(sessions: SessionManager,
                                                                 new_user: Callable[[], str],
                                                                 make_idle: Callable[[str], None]) -> None:
    user = new_user()
    idle = [sessions.get_or_create_session(user, "geral").session_id for _ in range(3)]
    live = sessions.get_or_create_session(user, "geral").session_id
    for sid in idle:
        make_idle(sid)
    assert sessions.cleanup_old_sessions() >= 3  # other tests' idle sessions may be cleaned too
    assert sessions.cleanup_old_sessions() == 0
    assert sessions.touch_session(live) is True
    assert all(not i.is_active for i in map(sessions.get_session_info, idle) if i is not None)


def test_cleanup_with_explicit_timeout_uses_it(sessions: SessionManager, new_user: Callable[[], str],
                                               conn: psycopg.Connection) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '90 seconds'
                    WHERE id = %s""", (s.session_id,))
    sessions.cleanup_old_sessions(timedelta(minutes=5))
    assert sessions.cleanup_old_sessions(timedelta(minutes=5)) == 0
    assert sessions.touch_session(s.session_id) is True
    conn.execute("""UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '90 seconds'
                    WHERE id = %s""", (s.session_id,))
    assert sessions.cleanup_old_sessions(idle_timeout=timedelta(minutes=1)) >= 1
    assert sessions.touch_session(s.session_id) is False


def test_cleanup_refuses_a_number_for_the_timeout(sessions: SessionManager) -> None:
    with pytest.raises(TypeError):
        sessions.cleanup_old_sessions(30)  # type: ignore[arg-type]


def test_session_stats_count_live_sessions_and_the_idle_backlog(sessions: SessionManager,
                                                                  new_user: Callable[[], str],
                                                                  make_idle: Callable[[str], None]) -> None:
    sessions.cleanup_old_sessions()
    before = sessions.session_stats()
    user = new_user()
    sessions.get_or_create_session(user, "geral")
    idle = sessions.get_or_create_session(user, "geral")
    ended = sessions.get_or_create_session(user, "geral")
    make_idle(idle.session_id)
    sessions.end_session(ended.session_id)
    after = sessions.session_stats()
    assert (after.live_sessions - before.live_sessions, after.idle_backlog - before.idle_backlog) == (1, 1)
    assert after.active_sessions == after.live_sessions + after.idle_backlog
    assert after.idle_backlog_oldest_seconds >= 3600  # idle for two hours, timeout 30 minutes
    assert after.idle_timeout_seconds == 1800.0
    assert after.created_last_hour - before.created_last_hour == 3


def test_health_check_returns_one_typed_row_per_check(sessions: SessionManager) -> None:
    checks = sessions.health_check()
    names = [c.check_name for c in checks]
    assert len(names) == len(set(names)) and {"cleanup_age", "idle_backlog", "pg_cron"} <= set(names)
    assert all(c.status in ("ok", "warning", "critical") for c in checks)
    assert all(c.value is None or isinstance(c.value, float) for c in checks)


def test_cleanup_job_status_is_unknown_outside_pg_crons_database(sessions: SessionManager) -> None:
    job = sessions.cleanup_job_status()
    assert job.job_state == "unknown" and job.job_id is None
    assert job.job_name is not None and job.job_name.startswith("session_manager_cleanup_")


def test_get_settings_lists_every_setting_in_column_order(sessions: SessionManager) -> None:
    settings = sessions.get_settings()
    assert list(settings)[:2] == ["idle_timeout", "context_messages"]
    assert settings["max_content_length"] == "65536"


def test_call_stats_count_each_method(sessions: SessionManager) -> None:
    before = sessions.call_stats().get("version")
    sessions.version()
    sessions.version()
    after = sessions.call_stats()["version"]
    assert after.count == (before.count if before else 0) + 2
    assert 0 < after.max_seconds <= after.total_seconds and after.mean_seconds > 0
    stats = sessions.pool_stats()
    assert stats["pool_max"] == 4 and stats["pool_size"] >= 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1,
                       max_size=300),
       role=st.sampled_from(["user", "assistant", "system"]))
def test_any_unicode_content_comes_back_exactly(sessions: SessionManager, new_user: Callable[[], str],
                                                content: str, role: str) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    stored = sessions.append_message(s.session_id, role, content)
    assert (stored.role, stored.content) == (role, content)
    assert sessions.get_context(s.session_id) == [stored]
