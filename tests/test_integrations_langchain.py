"""LangChain over pg-session-manager (session_manager.integrations.langchain), with the real langchain-core:
messages of every type round-trip equal, add_messages is one call, and a RunnableWithMessageHistory with a fake
chat model of langchain-core's (no network) keeps its conversation in the session."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from session_manager import AsyncSessionManager, InvalidArgumentError, SessionManager
from session_manager.integrations.langchain import SessionManagerChatMessageHistory

MESSAGES: list[BaseMessage] = [
    SystemMessage(content="Você é o assistente financeiro.", id="sys-1"),
    HumanMessage(content="Qual meu saldo?", id="h-1", name="ana", additional_kwargs={"channel": "whatsapp"}),
    AIMessage(content="", id="ai-1", tool_calls=[{"name": "saldo", "args": {"conta": "123"}, "id": "call_1"}],
              response_metadata={"model_name": "fake"}, usage_metadata={"input_tokens": 3, "output_tokens": 0,
                                                                        "total_tokens": 3}),
    ToolMessage(content="R$ 10,00", tool_call_id="call_1", id="t-1", artifact={"raw": [1, 2]}),
    AIMessage(content=[{"type": "text", "text": "Seu saldo é"}, {"type": "text", "text": "R$ 10,00."}], id="ai-2"),
    FunctionMessage(content="{}", name="legacy"),
    ChatMessage(content="nota", role="critic"),
    HumanMessage(content=[{"type": "text", "text": "e isto?"},
                          {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}]),
]


@pytest.fixture(scope="module")
def manager(db: str) -> Iterator[SessionManager]:
    with SessionManager(db, min_size=1, max_size=2, timeout=10.0) as m:
        yield m


@pytest.fixture()
def session_id(manager: SessionManager, conn: psycopg.Connection) -> str:
    user = "u-" + uuid.uuid4().hex[:12]
    conn.execute('INSERT INTO public."user" (id, email) VALUES (%s, %s)', (user, user + "@example.com"))
    return manager.get_or_create_session(user, "financeiro", chat_id="c-" + user).session_id


def test_every_message_type_round_trips_equal_with_its_ids(manager: SessionManager, session_id: str,
                                                          conn: psycopg.Connection) -> None:
    history = SessionManagerChatMessageHistory(session_id, manager=manager)
    with pytest.warns(DeprecationWarning):  # langchain-core 1.6.4 deprecated it; it is still its reference storage
        reference = InMemoryChatMessageHistory()
    history.add_messages(MESSAGES)
    reference.add_messages(MESSAGES)
    assert history.messages == reference.messages == MESSAGES
    assert [m.id for m in history.messages] == [m.id for m in MESSAGES]
    rows = conn.execute("SELECT role, content FROM session_manager.messages WHERE session_id = %s ORDER BY id",
                        (session_id,)).fetchall()
    assert rows == [("system", "Você é o assistente financeiro."), ("user", "Qual meu saldo?"), ("assistant", ""),
                    ("tool", "R$ 10,00"), ("assistant", "Seu saldo é\nR$ 10,00."), ("tool", "{}"),
                    ("assistant", "nota"), ("user", "e isto?")]


def test_add_messages_is_one_call_all_or_nothing(manager: SessionManager, session_id: str) -> None:
    history = SessionManagerChatMessageHistory(session_id, manager=manager)
    before = manager.call_stats().get("append_messages")
    history.add_messages([HumanMessage(content="a"), AIMessage(content="b")])
    after = manager.call_stats()["append_messages"]
    assert after.count - (before.count if before else 0) == 1
    with pytest.raises(InvalidArgumentError):  # longer than max_content_length: nothing of the batch is stored
        history.add_messages([HumanMessage(content="c"), AIMessage(content="x" * 70_000)])
    assert [m.content for m in history.messages] == ["a", "b"]
    history.add_user_message("d")
    history.add_ai_message("e")
    assert [m.content for m in history.messages] == ["a", "b", "d", "e"]
    history.clear()
    assert history.messages == []
    info = manager.get_session_info(session_id)
    assert info is not None and info.is_active and info.message_count == 0


def test_messages_the_application_wrote_come_back_as_langchain_messages(manager: SessionManager,
                                                                        session_id: str) -> None:
    manager.append_message(session_id, "user", "oi")
    manager.append_message(session_id, "assistant", "olá")
    history = SessionManagerChatMessageHistory(session_id, manager=manager)
    assert history.messages == [HumanMessage(content="oi"), AIMessage(content="olá")]


def test_a_runnable_with_message_history_keeps_its_conversation_in_the_session(manager: SessionManager,
                                                                               session_id: str) -> None:
    model = FakeListChatModel(responses=["Olá, Ana!", "Você se chama Ana."])
    prompt = ChatPromptTemplate.from_messages([("system", "Você é o assistente geral."),
                                               MessagesPlaceholder("history"), ("human", "{question}")])
    seen: list[int] = []

    def history_for(sid: str) -> SessionManagerChatMessageHistory:
        history = SessionManagerChatMessageHistory(sid, manager=manager)
        seen.append(len(history.messages))
        return history

    chain = RunnableWithMessageHistory(prompt | model, history_for, input_messages_key="question",
                                       history_messages_key="history")
    config = {"configurable": {"session_id": session_id}}
    assert chain.invoke({"question": "Oi, sou a Ana"}, config=config).content == "Olá, Ana!"  # type: ignore[arg-type]
    assert chain.invoke({"question": "Qual meu nome?"}, config=config).content == "Você se chama Ana."  # type: ignore[arg-type]
    stored = SessionManagerChatMessageHistory(session_id, manager=manager).messages
    assert [(type(m).__name__, m.content) for m in stored] == [
        ("HumanMessage", "Oi, sou a Ana"), ("AIMessage", "Olá, Ana!"),
        ("HumanMessage", "Qual meu nome?"), ("AIMessage", "Você se chama Ana.")]
    assert seen[:2] == [0, 2], "the second turn was given the first turn's messages"


def test_the_async_methods_use_the_async_manager(db: str, manager: SessionManager, session_id: str) -> None:
    async def body() -> None:
        async with AsyncSessionManager(db, min_size=1, max_size=1, timeout=10.0) as am:
            history = SessionManagerChatMessageHistory(session_id, async_manager=am)
            await history.aadd_messages(MESSAGES[:4])
            assert await history.aget_messages() == MESSAGES[:4]
            with pytest.raises(ValueError, match="no sync manager"):
                _ = history.messages
            await history.aclear()
            assert await history.aget_messages() == []

    asyncio.run(body())
