"""LangChain's BaseChatMessageHistory over one session of pg-session-manager
(``pip install "session_manager[langchain]"``).

The history is the session's messages, oldest first. Each message is stored whole as LangChain serializes it
(``message_to_dict``: its type, content (text or content blocks), tool calls, name, ``id`` and every other
field) in the message's metadata (``{"langchain": ...}``), and comes back equal (``==``) to what was added,
its LangChain ``id`` included; the message's role is ``user`` (human), ``assistant`` (ai), ``system``, or
``tool`` (tool, function), its content the text (text blocks joined by newlines). ``add_messages`` stores a
batch in one call (``append_messages``: all or nothing). ``clear`` removes the session's messages; the session
stays. Messages the application wrote without LangChain come back as HumanMessage, AIMessage, SystemMessage,
or ChatMessage(role="tool"). The sync methods use ``manager``, the async ones ``async_manager``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    message_to_dict,
    messages_from_dict,
)

from ..manager import AsyncSessionManager, SessionManager
from ..models import Message, NewMessage

__all__ = ["SessionManagerChatMessageHistory"]

# get_context's limit for "every message" (its argument is an integer).
ALL = 2**31 - 1
ROLES = {"human": "user", "ai": "assistant", "AIMessageChunk": "assistant", "system": "system", "tool": "tool",
         "function": "tool", "HumanMessageChunk": "user", "SystemMessageChunk": "system",
         "ToolMessageChunk": "tool", "FunctionMessageChunk": "tool"}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b if isinstance(b, str) else str(b["text"]) for b in content
                         if isinstance(b, str) or (isinstance(b, dict) and isinstance(b.get("text"), str)))
    return ""


def _new(message: BaseMessage) -> NewMessage:
    if message.type in ROLES:
        role = ROLES[message.type]
    else:  # ChatMessage: its own role when the package knows it
        role = getattr(message, "role", "assistant")
        role = role if role in ("user", "assistant", "system", "tool") else "assistant"
    return {"role": role, "content": _text(message.content), "metadata": {"langchain": message_to_dict(message)}}


def _message(m: Message) -> BaseMessage:
    if m.metadata is not None and "langchain" in m.metadata:
        return messages_from_dict([m.metadata["langchain"]])[0]
    if m.role == "user":
        return HumanMessage(content=m.content)
    if m.role == "assistant":
        return AIMessage(content=m.content)
    if m.role == "system":
        return SystemMessage(content=m.content)
    return ChatMessage(role=m.role, content=m.content)


class SessionManagerChatMessageHistory(BaseChatMessageHistory):
    """A LangChain chat history in an existing session of pg-session-manager."""

    def __init__(self, session_id: str, *, manager: SessionManager | None = None,
                 async_manager: AsyncSessionManager | None = None) -> None:
        if manager is None and async_manager is None:
            raise ValueError("pass manager (for the sync methods), async_manager (for the async ones), or both")
        self.session_id = session_id
        self.manager = manager
        self.async_manager = async_manager

    def _sync(self) -> SessionManager:
        if self.manager is None:
            raise ValueError("this history has no sync manager: use the async methods, or pass manager=")
        return self.manager

    def _async(self) -> AsyncSessionManager:
        if self.async_manager is None:
            raise ValueError("this history has no async manager: use the sync methods, or pass async_manager=")
        return self.async_manager

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        return [_message(m) for m in self._sync().get_context(self.session_id, ALL)]

    async def aget_messages(self) -> list[BaseMessage]:
        return [_message(m) for m in await self._async().get_context(self.session_id, ALL)]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        if messages:
            self._sync().append_messages(self.session_id, [_new(m) for m in messages])

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        if messages:
            await self._async().append_messages(self.session_id, [_new(m) for m in messages])

    def clear(self) -> None:
        self._sync().clear_messages(self.session_id)

    async def aclear(self) -> None:
        await self._async().clear_messages(self.session_id)
