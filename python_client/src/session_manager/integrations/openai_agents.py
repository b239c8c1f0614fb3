"""An OpenAI Agents SDK session over one pg-session-manager session (``pip install "session_manager[openai-agents]"``).

``SessionManagerSession`` is an ``agents.memory.SessionABC``, with the semantics of the SDK's own SQLiteSession
(agents/memory/sqlite_session.py): ``get_items(limit)`` returns the latest ``limit`` items in chronological order
(``None``: ``session_settings.limit``; no limit: every item; 0: none; a negative limit: every item, as SQLite's
LIMIT -1 does), ``add_items`` stores a batch (in one transaction here: all or nothing), ``pop_item`` removes and
returns the latest item (``None`` when there is none), ``clear_session`` removes every item (the
session itself stays, live, with its chat). Every item, with or without a role (messages, function calls and
their outputs, reasoning), is stored whole in the message's metadata (``{"item": ...}``) and comes back equal
(``==``) to what was added, its own ids included; the message's role is the item's when the package knows it
(``developer`` is ``system``), else ``assistant`` for the model's items (function calls, reasoning) and
``tool`` for tool outputs; its content is the item's text (text parts joined by newlines). Messages the
application wrote without the SDK come back as ``{"role": ..., "content": ...}``.
"""
from __future__ import annotations

from typing import Any

from agents.items import TResponseInputItem
from agents.memory import SessionABC, SessionSettings

from ..manager import AsyncSessionManager
from ..models import Message, NewMessage

__all__ = ["SessionManagerSession"]

# get_context's limit for "every item" (its argument is an integer).
ALL = 2**31 - 1
ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system", "tool": "tool"}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p["text"]) for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _role(item: dict[str, Any]) -> str:
    role = item.get("role")
    if isinstance(role, str) and role in ROLES:
        return ROLES[role]
    kind = str(item.get("type", ""))
    return "tool" if kind.endswith("_output") else "assistant"


def _new(item: TResponseInputItem) -> NewMessage:
    as_dict: dict[str, Any] = dict(item)
    text = _text(as_dict.get("content", as_dict.get("output", "")))
    return {"role": _role(as_dict), "content": text, "metadata": {"item": as_dict}}


def _item(m: Message) -> TResponseInputItem:
    if m.metadata is not None and "item" in m.metadata:
        return m.metadata["item"]  # type: ignore[no-any-return]
    written: Any = {"role": m.role, "content": m.content}  # an EasyInputMessageParam
    return written  # type: ignore[no-any-return]


class SessionManagerSession(SessionABC):
    """The OpenAI Agents SDK's session memory in an existing session of pg-session-manager."""

    def __init__(self, session_id: str, manager: AsyncSessionManager, *,
                 session_settings: SessionSettings | None = None) -> None:
        self.session_id = session_id
        self.manager = manager
        self.session_settings = session_settings if session_settings is not None else SessionSettings()

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        if limit is None and self.session_settings is not None:
            limit = self.session_settings.limit
        if limit == 0:
            return []
        wanted = ALL if limit is None or limit < 0 else limit
        return [_item(m) for m in await self.manager.get_context(self.session_id, wanted)]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        if items:
            await self.manager.append_messages(self.session_id, [_new(i) for i in items])

    async def pop_item(self) -> TResponseInputItem | None:
        popped = await self.manager.pop_message(self.session_id)
        return None if popped is None else _item(popped)

    async def clear_session(self) -> None:
        await self.manager.clear_messages(self.session_id)
