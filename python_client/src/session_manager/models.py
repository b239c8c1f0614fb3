"""What the SQL functions return, as frozen dataclasses with the fields of the SQL types
``session_manager.session_info`` and ``session_manager.message`` (same names, same order)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

__all__ = ["CleanupJobStatus", "HealthCheck", "Message", "SessionInfo", "SessionStats"]


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


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class SessionStats:
    """The view ``session_manager.session_stats``: one row of session figures.

    Exact: active (live + idle backlog: active but idle past idle_timeout, not yet cleaned up, which every
    function treats as inactive), created and cleaned in the last hour. Estimates from the statistics
    (cheap on a large history): inactive sessions and messages. *_total: counters since the statistics reset.
    """

    active_sessions: int
    live_sessions: int
    idle_backlog: int
    idle_backlog_oldest_seconds: float
    inactive_sessions_estimate: int
    created_last_hour: int
    deactivated_last_hour: int
    purged_last_hour: int
    cleanup_runs_last_hour: int
    messages_estimate: int
    sessions_created_total: int
    messages_appended_total: int
    idle_timeout_seconds: float

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> SessionStats:
        # bigint counts arrive as int, sums and EXTRACT(EPOCH ...) as Decimal: each as its field's type.
        values: list[Any] = [(float if f.type == "float" else int)(v or 0)
                             for f, v in zip(fields(cls), row, strict=True)]
        return cls(*values)


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """One row of ``session_manager.health_check()``: status is 'ok', 'warning' or 'critical'."""

    check_name: str
    status: str
    value: float | None
    threshold: float | None
    detail: str | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> HealthCheck:
        name, status, value, threshold, detail = row
        return cls(name, status, _number(value), _number(threshold), detail)


@dataclass(frozen=True, slots=True)
class CleanupJobStatus:
    """``session_manager.cleanup_job_status()``: the pg_cron cleanup job of this database.

    job_state: 'scheduled', 'inactive', 'missing', or 'unknown' where pg_cron lives in another database.
    """

    job_state: str
    job_name: str | None
    job_id: int | None
    job_schedule: str | None
    last_run_started_at: datetime | None
    last_run_finished_at: datetime | None
    last_run_status: str | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_failure_message: str | None
    consecutive_failures: int | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> CleanupJobStatus:
        return cls(*row)
