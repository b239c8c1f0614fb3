"""The OpenAI Agents SDK over pg-session-manager (session_manager.integrations.openai_agents), with the real
openai-agents: every call answered as the SDK's own SQLiteSession answers it, items of every kind equal to what
was added."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest
from agents.memory import Session, SessionSettings, SQLiteSession

from session_manager import AsyncSessionManager, SessionManager
from session_manager.integrations.openai_agents import SessionManagerSession

ITEMS: list[Any] = [
    {"role": "system", "content": "Você é o assistente max."},
    {"role": "user", "content": "Qual a previsão?"},
    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "pensar"}]},
    {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "previsao",
     "arguments": "{\"cidade\": \"SP\"}"},
    {"type": "function_call_output", "call_id": "call_1", "output": "22 °C"},
    {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
     "content": [{"type": "output_text", "text": "Faz 22 °C.", "annotations": [], "logprobs": []}]},
    {"role": "developer", "content": [{"type": "input_text", "text": "seja breve"}]},
    {"role": "user", "content": [{"type": "input_text", "text": "e amanhã?"},
                                 {"type": "input_image", "image_url": "https://example.com/x.png", "detail": "auto"}]},
]


@pytest.fixture()
def session_id(db: str, conn: psycopg.Connection) -> str:
    user = "u-" + uuid.uuid4().hex[:12]
    conn.execute('INSERT INTO public."user" (id, email) VALUES (%s, %s)', (user, user + "@example.com"))
    with SessionManager(db, min_size=1, max_size=1, timeout=10.0) as m:
        return m.get_or_create_session(user, "max", chat_id="c-" + user).session_id


def test_every_call_answers_as_the_sdks_sqlite_session(db: str, session_id: str, conn: psycopg.Connection) -> None:
    calls: list[tuple[str, tuple[Any, ...]]] = [
        ("get_items", ()), ("pop_item", ()), ("add_items", ([],)), ("add_items", (ITEMS[:5],)),
        ("add_items", (ITEMS[5:],)), ("get_items", ()), ("get_items", (3,)), ("get_items", (0,)),
        ("get_items", (-1,)), ("get_items", (100,)), ("pop_item", ()), ("get_items", (2,)), ("pop_item", ()),
        ("clear_session", ()), ("get_items", ()), ("pop_item", ()), ("add_items", (ITEMS[1:2],)), ("get_items", ()),
    ]

    async def body() -> None:
        async with AsyncSessionManager(db, min_size=1, max_size=1, timeout=10.0) as manager:
            ours = SessionManagerSession(session_id, manager)
            theirs = SQLiteSession(session_id)
            assert isinstance(ours, Session)  # the SDK's protocol
            for name, args in calls:
                answers = [await getattr(s, name)(*args) for s in (ours, theirs)]
                assert answers[0] == answers[1], (name, args)
            theirs.close()

    asyncio.run(body())
    info = conn.execute('SELECT "isActive" FROM public."conversationSessions" WHERE id = %s', (session_id,)).fetchone()
    assert info == (True,), "clear_session keeps the session"


def test_items_come_back_equal_and_roles_follow_the_items(db: str, session_id: str, conn: psycopg.Connection) -> None:
    async def body() -> None:
        async with AsyncSessionManager(db, min_size=1, max_size=1, timeout=10.0) as manager:
            session = SessionManagerSession(session_id, manager)
            await session.add_items(ITEMS)
            assert await session.get_items() == ITEMS
            assert await session.get_items(2) == ITEMS[-2:]

    asyncio.run(body())
    rows = conn.execute("SELECT role, content FROM session_manager.messages WHERE session_id = %s ORDER BY id",
                        (session_id,)).fetchall()
    assert rows == [("system", "Você é o assistente max."), ("user", "Qual a previsão?"), ("assistant", ""),
                    ("assistant", ""), ("tool", "22 °C"), ("assistant", "Faz 22 °C."), ("system", "seja breve"),
                    ("user", "e amanhã?")]


def test_get_items_without_a_limit_uses_the_session_settings(db: str, session_id: str) -> None:
    async def body() -> None:
        async with AsyncSessionManager(db, min_size=1, max_size=1, timeout=10.0) as manager:
            session = SessionManagerSession(session_id, manager, session_settings=SessionSettings(limit=2))
            await session.add_items(ITEMS)
            assert await session.get_items() == ITEMS[-2:]
            assert await session.get_items(limit=4) == ITEMS[-4:]

    asyncio.run(body())
