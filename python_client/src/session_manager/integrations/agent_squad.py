"""agent-squad's ChatStorage over pg-session-manager (``pip install "session_manager[agent-squad]"``).

agent-squad keys a conversation by (user_id, session_id, agent_id). Here its ``user_id`` is the application's
user, its ``session_id`` the chat (the ``chat_id`` of ``get_or_create_session``; a new chat's session is
created with ``default_agent``), and its ``agent_id`` the message's ``agent_id`` (one of the setting
``agents``). Every call is scoped to that user (``acting_as``): another user's chat is unknown.

The semantics are those of agent-squad's own InMemoryChatStorage (agent_squad/storage/in_memory_chat_storage.py):
- save_chat_message skips a message whose role is the role of the agent's last message, and returns the
  conversation as it is; otherwise it stores the message, trims the agent's messages to max_history_size made
  even (``ChatStorage.trim_conversation``: 0 or 1 keep everything) and returns the conversation;
- save_chat_messages stores them all (in one transaction here), trims, returns the conversation (an empty list
  stores nothing, as SqlChatStorage does; the in-memory storage raises IndexError on it);
- fetch_chat returns the agent's conversation (its last max_history_size made even, when given); an unknown
  chat returns [] and creates nothing;
- fetch_all_chats returns the session's messages of every agent, oldest first, each assistant message's text
  prefixed with ``[agent_id]`` (a message whose first block has no text keeps its content; agent-squad's
  storages would raise KeyError on it).
An agent's conversation is its own messages and the session's messages with no agent (those the application
wrote itself); trimming removes only the agent's own. The content blocks are kept whole in the message's
metadata (``{"content": [...]}``); the message's text is their text blocks joined by newlines.
"""
from __future__ import annotations

from typing import Any

# agent-squad ships no type information (no py.typed): to mypy its classes are Any.
from agent_squad.storage import ChatStorage  # type: ignore[import-untyped]
from agent_squad.types import ConversationMessage, ParticipantRole, TimestampedMessage  # type: ignore[import-untyped]

from ..manager import AsyncSessionManager
from ..models import Message, NewMessage

__all__ = ["SessionManagerChatStorage"]

# get_context's limit for "the whole conversation" (its argument is an integer).
ALL = 2**31 - 1


def _role(message: ConversationMessage) -> str:
    role = message.role
    return str(role.value if isinstance(role, ParticipantRole) else role)


def _new(message: ConversationMessage, agent_id: str) -> NewMessage:
    content = message.content
    blocks = content if isinstance(content, list) else []
    text = "\n".join(str(b["text"]) for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str))
    return {"role": _role(message), "content": text, "agent_id": agent_id, "metadata": {"content": content}}


def _conversation_message(m: Message) -> ConversationMessage:
    if m.metadata is not None and "content" in m.metadata:
        return ConversationMessage(role=m.role, content=m.metadata["content"])
    return ConversationMessage(role=m.role, content=[{"text": m.content}])  # written outside agent-squad


def _kept(max_history_size: int | None) -> int | None:
    """ChatStorage.trim_conversation's size: None or 0 (from 0 or 1) keeps everything; odd sizes round down."""
    if max_history_size is None:
        return None
    even = max_history_size if max_history_size % 2 == 0 else max_history_size - 1
    return even if even > 0 else None


class SessionManagerChatStorage(ChatStorage):  # type: ignore[misc]
    """agent-squad's ``ChatStorage`` in pg-session-manager's messages."""

    def __init__(self, manager: AsyncSessionManager, *, default_agent: str = "geral") -> None:
        super().__init__()
        self.manager = manager
        self.default_agent = default_agent

    async def _session(self, user_id: str, chat_id: str, *, create: bool) -> tuple[AsyncSessionManager, str | None]:
        scoped = self.manager.acting_as(user_id)
        if create:
            return scoped, (await scoped.get_or_create_session(user_id, self.default_agent, chat_id=chat_id)).session_id
        found = await scoped.find_chat_session(user_id, chat_id)
        return scoped, None if found is None else found.session_id

    @staticmethod
    async def _conversation(scoped: AsyncSessionManager, session_id: str, agent_id: str,
                            max_history_size: int | None) -> list[ConversationMessage]:
        kept = _kept(max_history_size)
        messages = await scoped.get_context(session_id, ALL if kept is None else kept, agent_id=agent_id)
        return [_conversation_message(m) for m in messages]

    async def _trimmed(self, scoped: AsyncSessionManager, session_id: str, agent_id: str,
                       max_history_size: int | None) -> list[ConversationMessage]:
        kept = _kept(max_history_size)
        if kept is not None:
            await scoped.trim_messages(session_id, kept, agent_id=agent_id)
        return await self._conversation(scoped, session_id, agent_id, max_history_size)

    async def save_chat_message(self, user_id: str, session_id: str, agent_id: str,
                                new_message: ConversationMessage | TimestampedMessage,
                                max_history_size: int | None = None) -> list[ConversationMessage]:
        scoped, sid = await self._session(user_id, session_id, create=True)
        assert sid is not None
        last = await scoped.get_context(sid, 1, agent_id=agent_id)
        if last and last[-1].role == _role(new_message):
            return await self._conversation(scoped, sid, agent_id, None)
        message = _new(new_message, agent_id)
        await scoped.append_message(sid, message["role"], message["content"], agent_id=agent_id,
                                    metadata=message.get("metadata"))
        return await self._trimmed(scoped, sid, agent_id, max_history_size)

    async def save_chat_messages(self, user_id: str, session_id: str, agent_id: str,
                                 new_messages: list[ConversationMessage] | list[TimestampedMessage],
                                 max_history_size: int | None = None) -> list[ConversationMessage]:
        scoped, sid = await self._session(user_id, session_id, create=True)
        assert sid is not None
        if new_messages:
            await scoped.append_messages(sid, [_new(m, agent_id) for m in new_messages])
        return await self._trimmed(scoped, sid, agent_id, max_history_size)

    async def fetch_chat(self, user_id: str, session_id: str, agent_id: str,
                         max_history_size: int | None = None) -> list[ConversationMessage]:
        scoped, sid = await self._session(user_id, session_id, create=False)
        if sid is None:
            return []
        return await self._conversation(scoped, sid, agent_id, max_history_size)

    async def fetch_all_chats(self, user_id: str, session_id: str) -> list[ConversationMessage]:
        scoped, sid = await self._session(user_id, session_id, create=False)
        if sid is None:
            return []
        result = []
        for m in await scoped.get_context(sid, ALL):
            content: Any = _conversation_message(m).content or []
            if content and m.role == "assistant" and m.agent_id is not None and isinstance(content[0], dict) \
                    and "text" in content[0]:
                content = [{"text": f"[{m.agent_id}] {content[0]['text']}"}]
            result.append(ConversationMessage(role=m.role, content=content))
        return result
