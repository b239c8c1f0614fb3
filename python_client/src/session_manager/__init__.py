"""pg-session-manager's Python client: a thin, pooled, typed driver over the package's SQL functions.

    from session_manager import SessionManager

    with SessionManager("postgresql://app@db/chat") as sessions:
        s = sessions.get_or_create_session(user_id="u1", agent="geral", chat_id="5511999999999@c.us")
        sessions.append_message(s.session_id, role="user", content="oi")
"""
from .errors import (
    SQLSTATE_ERRORS,
    ClosedError,
    ConnectionFailedError,
    ConnectionLostError,
    ContentTooLongError,
    DatabaseError,
    DatabaseUnavailableError,
    DuplicateMessageError,
    InvalidArgumentError,
    NotFoundError,
    NullArgumentError,
    PermissionDeniedError,
    PoolTimeoutError,
    SessionManagerError,
    SessionNotLiveError,
    TransactionConflictError,
)
from .manager import AsyncSessionManager, SessionManager
from .models import CleanupJobStatus, HealthCheck, Message, NewMessage, SessionInfo, SessionStats
from .pool import CallTiming, PoolSettings, RetryPolicy

__version__ = "0.5.2"

__all__ = [
    "SQLSTATE_ERRORS",
    "AsyncSessionManager",
    "CallTiming",
    "CleanupJobStatus",
    "ClosedError",
    "ConnectionFailedError",
    "ConnectionLostError",
    "ContentTooLongError",
    "DatabaseError",
    "DatabaseUnavailableError",
    "DuplicateMessageError",
    "HealthCheck",
    "InvalidArgumentError",
    "Message",
    "NewMessage",
    "NotFoundError",
    "NullArgumentError",
    "PermissionDeniedError",
    "PoolSettings",
    "PoolTimeoutError",
    "RetryPolicy",
    "SessionInfo",
    "SessionManager",
    "SessionManagerError",
    "SessionNotLiveError",
    "SessionStats",
    "TransactionConflictError",
]
