"""agent-squad over pg-session-manager (session_manager.integrations.agent_squad), with the real agent-squad:
an orchestrator conversation with stub agents and classifier of our own (no network), and the storage's
answers compared call by call with agent-squad's own InMemoryChatStorage."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg
import pytest
from agent_squad.agents import Agent, AgentOptions
from agent_squad.classifiers import Classifier, ClassifierResult
from agent_squad.orchestrator import AgentSquad
from agent_squad.storage import InMemoryChatStorage
from agent_squad.types import ConversationMessage, ParticipantRole

from session_manager import AsyncSessionManager, InvalidArgumentError
from session_manager.integrations.agent_squad import SessionManagerChatStorage


class StubAgent(Agent):  # type: ignore[misc]
    """An agent that answers without a model: what it was asked and how much history it was given."""

    def __init__(self, name: str) -> None:
        super().__init__(AgentOptions(name=name, description=f"the {name} agent"))
        self.histories: list[list[tuple[str, Any]]] = []

    async def process_request(self, input_text: str, user_id: str, session_id: str,
                              chat_history: list[ConversationMessage], additional_params: Any = None
                              ) -> ConversationMessage:
        self.histories.append([(m.role, m.content) for m in chat_history])
        return ConversationMessage(role=ParticipantRole.ASSISTANT.value,
                                   content=[{"text": f"{self.id}: {input_text} ({len(chat_history)} before)"}])


class KeywordClassifier(Classifier):  # type: ignore[misc]
    """Routes by keyword (boleto -> financeiro, else max); keeps the history agent-squad gave it."""

    def __init__(self, agents: dict[str, StubAgent]) -> None:
        super().__init__()
        self.stubs = agents
        self.histories: list[list[tuple[str, Any]]] = []

    async def process_request(self, input_text: str, chat_history: list[ConversationMessage]) -> ClassifierResult:
        self.histories.append([(m.role, m.content) for m in chat_history])
        name = "financeiro" if "boleto" in input_text else "max"
        return ClassifierResult(selected_agent=self.stubs[name], confidence=1.0)


def run(db: str, body: Callable[[AsyncSessionManager], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        async with AsyncSessionManager(db, min_size=1, max_size=2, timeout=10.0) as manager:
            await body(manager)

    asyncio.run(main())


@pytest.fixture()
def user(conn: psycopg.Connection) -> str:
    user_id = "u-" + uuid.uuid4().hex[:12]
    conn.execute('INSERT INTO public."user" (id, email) VALUES (%s, %s)', (user_id, user_id + "@example.com"))
    return user_id


def test_an_orchestrator_conversation_is_stored_per_agent_and_read_back_by_agent_squad(
        db: str, user: str, conn: psycopg.Connection) -> None:
    chat = "5511999999999@c.us"
    agents = {name: StubAgent(name) for name in ("financeiro", "max")}
    classifier = KeywordClassifier(agents)

    async def body(manager: AsyncSessionManager) -> None:
        squad = AgentSquad(storage=SessionManagerChatStorage(manager), classifier=classifier)
        for a in agents.values():
            squad.add_agent(a)
        outputs = []
        for text in ("quero meu boleto", "oi max", "e o boleto de março?"):
            response = await squad.route_request(text, user, chat)
            outputs.append(response.output.content[0]["text"])
        assert outputs == ["financeiro: quero meu boleto (0 before)", "max: oi max (0 before)",
                           "financeiro: e o boleto de março? (2 before)"]
        # Each agent was given its own conversation only.
        assert agents["financeiro"].histories[1] == [
            ("user", [{"text": "quero meu boleto"}]),
            ("assistant", [{"text": "financeiro: quero meu boleto (0 before)"}])]
        # The classifier was given every agent's messages, the answers marked with their agent.
        assert classifier.histories[2] == [
            ("user", [{"text": "quero meu boleto"}]),
            ("assistant", [{"text": "[financeiro] financeiro: quero meu boleto (0 before)"}]),
            ("user", [{"text": "oi max"}]),
            ("assistant", [{"text": "[max] max: oi max (0 before)"}])]

    run(db, body)
    rows = conn.execute("""
        SELECT s."chatId", s.agent, m.role, m.agent_id, m.content
        FROM session_manager.messages m JOIN public."conversationSessions" s ON s.id = m.session_id
        WHERE s."userId" = %s ORDER BY m.id""", (user,)).fetchall()
    assert [r[2:] for r in rows] == [
        ("user", "financeiro", "quero meu boleto"),
        ("assistant", "financeiro", "financeiro: quero meu boleto (0 before)"),
        ("user", "max", "oi max"), ("assistant", "max", "max: oi max (0 before)"),
        ("user", "financeiro", "e o boleto de março?"),
        ("assistant", "financeiro", "financeiro: e o boleto de março? (2 before)")]
    assert {r[:2] for r in rows} == {(chat, "geral")}, "one session for the chat, created with default_agent"


def contents(conversation: list[ConversationMessage] | bool) -> Any:
    """Roles as text: the in-memory storage hands back a ParticipantRole it was given as is, SqlChatStorage and
    ours give its value."""
    assert isinstance(conversation, list)
    return [(m.role.value if isinstance(m.role, ParticipantRole) else m.role, m.content) for m in conversation]


def test_the_storage_answers_as_agent_squads_in_memory_storage_does(db: str, user: str) -> None:
    def msg(role: str, text: str) -> ConversationMessage:
        return ConversationMessage(role=role, content=[{"text": text}])

    script: list[tuple[str, tuple[Any, ...]]] = [
        ("fetch_chat", ("chat-a", "max")),  # an unknown chat: nothing, and nothing created
        ("fetch_all_chats", ("chat-a",)),
        ("save_chat_message", ("chat-a", "max", msg("user", "u1"), None)),
        ("save_chat_message", ("chat-a", "max", msg("user", "u1 again"), None)),  # same role: skipped
        ("save_chat_message", ("chat-a", "max", msg("assistant", "a1"), None)),
        ("save_chat_message", ("chat-a", "financeiro", msg("user", "f-u1"), None)),
        ("save_chat_message", ("chat-a", "financeiro",
                               # The role as text, as the orchestrator passes it (with the enum itself the
                               # in-memory storage leaves the message unmarked in fetch_all_chats; SqlChatStorage
                               # and ours mark it).
                               ConversationMessage(role=ParticipantRole.ASSISTANT.value, content=[
                                   {"text": "f-a1"}, {"toolUse": {"toolUseId": "t1", "name": "saldo", "input": {}}}]),
                               None)),
        ("save_chat_message", ("chat-a", "max", msg("user", "u2"), 3)),  # odd: trimmed to 2
        ("save_chat_message", ("chat-a", "max", msg("assistant", "a2"), 4)),
        ("save_chat_messages", ("chat-a", "max", [msg("user", "u3"), msg("assistant", "a3"), msg("user", "u4")], 5)),
        ("save_chat_messages", ("chat-a", "max", [msg("assistant", "a4")], None)),
        ("save_chat_message", ("chat-a", "max", msg("user", "u5"), 1)),  # 1 made even is 0: nothing trimmed
        ("fetch_chat", ("chat-a", "max")),
        ("fetch_chat", ("chat-a", "max", 3)),
        ("fetch_chat", ("chat-a", "financeiro", 10)),
        ("fetch_all_chats", ("chat-a",)),
        ("fetch_chat", ("chat-b", "max")),
    ]

    async def body(manager: AsyncSessionManager) -> None:
        ours, theirs = SessionManagerChatStorage(manager), InMemoryChatStorage()
        for name, args in script:
            answers = []
            for storage in (ours, theirs):
                answers.append(contents(await getattr(storage, name)(user, *args)))
                await asyncio.sleep(0.002)  # the in-memory storage orders fetch_all_chats by millisecond
            assert answers[0] == answers[1], (name, args)
        assert await manager.find_chat_session(user, "chat-b") is None, "reading a chat created nothing"
        with pytest.raises(InvalidArgumentError):  # a squad's agents must be in the setting agents
            await ours.save_chat_message(user, "chat-a", "nobody", msg("user", "x"))

    run(db, body)


def test_another_users_chat_is_unknown_to_the_storage(db: str, user: str, conn: psycopg.Connection) -> None:
    other = "u-" + uuid.uuid4().hex[:12]
    conn.execute('INSERT INTO public."user" (id, email) VALUES (%s, %s)', (other, other + "@example.com"))

    async def body(manager: AsyncSessionManager) -> None:
        storage = SessionManagerChatStorage(manager, default_agent="max")
        await storage.save_chat_message(user, "shared-chat-id", "max",
                                        ConversationMessage(role="user", content=[{"text": "secret"}]))
        assert await storage.fetch_all_chats(other, "shared-chat-id") == []
        assert await storage.fetch_chat(other, "shared-chat-id", "max") == []
        info = await manager.find_chat_session(user, "shared-chat-id")
        assert info is not None and info.agent_id == "max" and info.message_count == 1

    run(db, body)
