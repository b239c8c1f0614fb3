"""What the SQL functions return, as frozen dataclasses with the fields of the SQL types
``session_manager.session_info`` and ``session_manager.message`` (same names, same order)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["Message", "SessionInfo", "SessionStatus"]


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One row of ``session_manager.session_info``. ``last_activity`` is timezone-aware."""

    session_id: str
    user_id: str
    chat_id: str | None
    agent_id: str
    is_active: bool
    last_activity: datetime
    message_count: int

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> SessionInfo:
        return cls(*row)


@dataclass(frozen=True, slots=True)
class Message:
    """One row of ``session_manager.message``. ``created_at`` is timezone-aware."""

    message_id: uuid.UUID
    session_id: str
    role: str
    content: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Message:
        return cls(*row)

    def __repr__(self) -> str:
        # The content stays out of reprs (and so out of logs and tracebacks): it is the user's chat.
        return (f"Message(message_id={self.message_id!r}, session_id={self.session_id!r}, role={self.role!r}, "
                f"content=<{len(self.content)} characters>, created_at={self.created_at!r})")


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """The sessions by state, as ``session-manager status`` shows them.

    live: active and used within idle_timeout; idle: active but idle past the timeout, not yet cleaned up
    (every function treats these as inactive); inactive: ended or cleaned up.
    """

    live: int
    idle: int
    inactive: int
    idle_timeout: timedelta
    oldest_live_activity: datetime | None

    @property
    def active(self) -> int:
        return self.live + self.idle

    @property
    def total(self) -> int:
        return self.live + self.idle + self.inactive

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> SessionStatus:
        return cls(*row)
