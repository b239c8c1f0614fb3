"""The client's agent-memory methods and keyword arguments (issue 16), sync and async, against the real package."""
from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from session_manager import (
    AsyncSessionManager,
    ContentTooLongError,
    DuplicateMessageError,
    InvalidArgumentError,
    Message,
    NewMessage,
    NotFoundError,
    NullArgumentError,
    SessionManager,
    SessionNotLiveError,
)

pytest_plugins = ["client_fixtures"]

TOOL_CALL = {"tool_calls": [{"id": "call_1", "name": "saldo", "args": {"conta": "123"}}], "name": "financeiro",
             "content_blocks": [{"type": "text", "text": "olá"}, {"type": "image", "url": "https://x/y.png"}]}


@pytest.fixture()
def session(sessions: SessionManager, new_user: Callable[[], str]) -> str:
    return sessions.get_or_create_session(new_user(), "geral", chat_id="chat-1").session_id


def test_append_message_stores_agent_and_metadata_and_returns_them(sessions: SessionManager, session: str) -> None:
    m = sessions.append_message(session, "assistant", "", agent_id="financeiro", metadata=TOOL_CALL)
    assert isinstance(m, Message)
    assert (m.role, m.content, m.agent_id, m.metadata) == ("assistant", "", "financeiro", TOOL_CALL)
    assert sessions.get_context(session) == [m]
    assert "olá" not in repr(m) and "metadata=<3 keys>" in repr(m)


def test_append_message_retry_with_the_same_id_returns_the_stored_row(sessions: SessionManager, session: str) -> None:
    mid = uuid.uuid4()
    first = sessions.append_message(session, "tool", "42", mid, agent_id="max", metadata={"tool_call_id": "c"})
    assert sessions.append_message(session, "tool", "42", mid, agent_id="max", metadata={"tool_call_id": "c"}) == first
    with pytest.raises(DuplicateMessageError):
        sessions.append_message(session, "tool", "42", mid, agent_id="geral", metadata={"tool_call_id": "c"})
    with pytest.raises(DuplicateMessageError):
        sessions.append_message(session, "tool", "42", mid, agent_id="max", metadata={"tool_call_id": "d"})
    assert sessions.get_session_info(session).message_count == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(("kwargs", "error", "sqlstate"), [
    ({"content": "", "metadata": None}, InvalidArgumentError, "22023"),
    ({"agent_id": "nobody"}, InvalidArgumentError, "22023"),
    ({"metadata": {"x": "a\x00b"}}, InvalidArgumentError, "22021"),
    ({"metadata": {"x\x00": 1}}, InvalidArgumentError, "22021"),
    ({"metadata": {"x": math.nan}}, InvalidArgumentError, "22023"),
    ({"metadata": {"x": object()}}, InvalidArgumentError, "22023"),
    ({"metadata": [1, 2]}, InvalidArgumentError, "22023"),
    ({"agent_id": "max\x00"}, InvalidArgumentError, "22021"),
    ({"metadata": {"x": "y" * 300_000}}, ContentTooLongError, "22001"),
])
def test_append_message_bad_agent_memory_arguments_raise_mapped_errors(
        sessions: SessionManager, session: str, kwargs: dict[str, Any], error: type[Exception], sqlstate: str) -> None:
    args: dict[str, Any] = {"role": "assistant", "content": "x", **kwargs}
    with pytest.raises(error) as raised:
        sessions.append_message(session, **args)
    assert raised.value.sqlstate == sqlstate  # type: ignore[attr-defined]
    assert sessions.get_context(session) == []


def test_append_messages_stores_a_turn_in_order_and_a_retry_stores_nothing_twice(sessions: SessionManager,
                                                                                 session: str) -> None:
    turn: list[NewMessage] = [
        {"role": "user", "content": "qual meu saldo?", "agent_id": "financeiro"},
        {"role": "assistant", "content": "", "agent_id": "financeiro", "metadata": TOOL_CALL},
        {"role": "tool", "content": "R$ 10", "agent_id": "financeiro", "metadata": {"tool_call_id": "call_1"}},
        {"role": "assistant", "content": "Seu saldo é R$ 10.", "agent_id": "financeiro"},
    ]
    stored = sessions.append_messages(session, turn)
    assert [(m.role, m.content, m.metadata) for m in stored] == [(t["role"], t["content"], t.get("metadata"))
                                                                 for t in turn]
    assert sessions.get_context(session) == stored
    again = sessions.append_messages(session, [{**t, "message_id": m.message_id}  # type: ignore[typeddict-item]
                                               for t, m in zip(turn, stored, strict=True)])
    assert again == stored
    assert sessions.get_session_info(session).message_count == 4  # type: ignore[union-attr]
    assert sessions.append_messages(session, []) == []


def test_append_messages_with_one_bad_element_stores_nothing(sessions: SessionManager, session: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"messages\[1\]"):
        sessions.append_messages(session, [{"role": "user", "content": "ok"}, {"role": "bot", "content": "x"}])
    with pytest.raises(InvalidArgumentError) as raised:
        sessions.append_messages(session, [{"role": "user", "content": "ok\x00"}])
    assert raised.value.sqlstate == "22021"
    with pytest.raises(NullArgumentError):
        sessions.append_messages(session, [{"role": "user"}])  # type: ignore[typeddict-item]
    with pytest.raises(TypeError):
        sessions.append_messages(session, {"role": "user", "content": "x"})  # type: ignore[arg-type]
    assert sessions.get_context(session) == []


def test_get_context_with_agent_returns_that_agent_and_the_users_messages(sessions: SessionManager,
                                                                          session: str) -> None:
    sessions.append_messages(session, [
        {"role": "user", "content": "u1"}, {"role": "assistant", "content": "f1", "agent_id": "financeiro"},
        {"role": "assistant", "content": "m1", "agent_id": "max"}, {"role": "user", "content": "u2"}])
    assert [m.content for m in sessions.get_context(session, agent_id="max")] == ["u1", "m1", "u2"]
    assert [m.content for m in sessions.get_context(session, 2, agent_id="financeiro")] == ["f1", "u2"]
    with pytest.raises(InvalidArgumentError):
        sessions.get_context(session, agent_id="")


def test_pop_clear_and_trim_keep_the_count_exact(sessions: SessionManager, session: str) -> None:
    sessions.append_messages(session, [{"role": "user", "content": f"m{i}", "agent_id": "max" if i % 2 else None}
                                       for i in range(6)])
    popped = sessions.pop_message(session)
    assert popped is not None and (popped.content, popped.agent_id) == ("m5", "max")
    assert sessions.trim_messages(session, 1, agent_id="max") == 1  # m1 goes, m3 stays
    assert [m.content for m in sessions.get_context(session)] == ["m0", "m2", "m3", "m4"]
    assert sessions.trim_messages(session, 3) == 1
    assert sessions.get_session_info(session).message_count == 3  # type: ignore[union-attr]
    assert sessions.clear_messages(session) == 3
    assert sessions.pop_message(session) is None
    info = sessions.get_session_info(session)
    assert info is not None and (info.is_active, info.message_count) == (True, 0)


def test_message_changes_on_an_ended_or_unknown_session_raise(sessions: SessionManager, session: str) -> None:
    sessions.end_session(session)
    for call in (lambda: sessions.pop_message(session), lambda: sessions.clear_messages(session),
                 lambda: sessions.trim_messages(session, 1)):
        with pytest.raises(SessionNotLiveError):
            call()
    with pytest.raises(NotFoundError):
        sessions.clear_messages("no-such-session")


def test_find_chat_session_finds_the_live_session_and_creates_nothing(sessions: SessionManager,
                                                                      new_user: Callable[[], str],
                                                                      conn: psycopg.Connection) -> None:
    user = new_user()
    assert sessions.find_chat_session(user, "chat-x") is None
    count = conn.execute('SELECT count(*) FROM public."conversationSessions" WHERE "userId" = %s', (user,)).fetchone()
    assert count == (0,)
    created = sessions.get_or_create_session(user, "max", chat_id="chat-x")
    found = sessions.find_chat_session(user, "chat-x")
    assert found is not None and found.session_id == created.session_id
    assert sessions.acting_as("someone-else").find_chat_session(user, "chat-x") is None


def test_the_async_client_has_the_same_agent_memory_methods(db: str, sessions: SessionManager,
                                                            new_user: Callable[[], str]) -> None:
    user = new_user()

    async def run() -> None:
        async with AsyncSessionManager(db, min_size=1, max_size=2, timeout=10.0) as m:
            s = await m.get_or_create_session(user, "geral", chat_id="chat-async")
            one = await m.append_message(s.session_id, "assistant", "", agent_id="max", metadata={"k": [1]})
            many = await m.append_messages(s.session_id, [{"role": "user", "content": "a"},
                                                          {"role": "tool", "content": "b", "agent_id": "max"}])
            assert [x.content for x in await m.get_context(s.session_id, agent_id="max")] == ["", "a", "b"]
            assert await m.pop_message(s.session_id) == many[-1]
            assert await m.trim_messages(s.session_id, 1) == 1
            assert [x.message_id for x in await m.get_context(s.session_id)] == [many[0].message_id]
            assert one.metadata == {"k": [1]}
            assert await m.clear_messages(s.session_id) == 1
            found = await m.find_chat_session(user, "chat-async")
            assert found is not None and found.message_count == 0

    asyncio.run(run())
