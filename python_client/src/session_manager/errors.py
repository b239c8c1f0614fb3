"""The client's exceptions: one base class, one subclass per SQLSTATE of the contract, and the one
wrapper that turns psycopg's errors into them (the original stays as ``__cause__``).

A caller never imports psycopg to handle an error::

    try:
        sessions.append_message(sid, role="user", content=text)
    except SessionNotLiveError:
        sid = sessions.get_or_create_session(user_id=uid, agent="geral", chat_id=chat).session_id
"""
from __future__ import annotations

import psycopg
import psycopg_pool

__all__ = [
    "ClosedError",
    "ConnectionFailedError",
    "ConnectionLostError",
    "ContentTooLongError",
    "DatabaseError",
    "DatabaseUnavailableError",
    "DuplicateMessageError",
    "InvalidArgumentError",
    "NotFoundError",
    "NullArgumentError",
    "PermissionDeniedError",
    "PoolTimeoutError",
    "SessionManagerError",
    "SessionNotLiveError",
    "SQLSTATE_ERRORS",
    "TransactionConflictError",
    "nul_byte_error",
    "translate",
]

# The SQLSTATE PostgreSQL gives a NUL byte in text (character_not_in_repertoire). psycopg refuses such a
# string before sending it, without a SQLSTATE; the client raises InvalidArgumentError with this one.
NUL_BYTE_SQLSTATE = "22021"


class SessionManagerError(Exception):
    """Base class of every error the client raises.

    ``sqlstate`` is the server's SQLSTATE (None when the error did not come from the server),
    ``message`` the server's primary message, ``hint`` its HINT (what to do about it), if any.
    """

    #: The SQLSTATE this class stands for; instances carry the one actually received.
    default_sqlstate: str | None = None

    def __init__(self, message: str, *, sqlstate: str | None = None, hint: str | None = None,
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate if sqlstate is not None else self.default_sqlstate
        self.hint = hint
        self.detail = detail

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} (hint: {self.hint})"


class InvalidArgumentError(SessionManagerError):
    """22023 invalid_parameter_value: empty id, non-positive timeout or limit, role or agent not allowed,
    empty content. Also a NUL byte in text (sqlstate 22021) and an integer out of range (22003)."""

    default_sqlstate = "22023"


class NullArgumentError(InvalidArgumentError):
    """22004 null_value_not_allowed: a required argument is None."""

    default_sqlstate = "22004"


class ContentTooLongError(InvalidArgumentError):
    """22001 string_data_right_truncation: content longer than the setting max_content_length."""

    default_sqlstate = "22001"


class NotFoundError(SessionManagerError):
    """P0002 no_data_found: append_message to an unknown session, get_or_create_session for an unknown user."""

    default_sqlstate = "P0002"


class SessionNotLiveError(SessionManagerError):
    """55000 object_not_in_prerequisite_state: append_message to a session that is ended or idle past the
    timeout. Get a live one with get_or_create_session."""

    default_sqlstate = "55000"


class DuplicateMessageError(SessionManagerError):
    """23505 unique_violation: a message_id reused with a different session, role or content."""

    default_sqlstate = "23505"


class PermissionDeniedError(SessionManagerError):
    """42501 insufficient_privilege: the role lacks the package's grants (session_manager_app)."""

    default_sqlstate = "42501"


class TransactionConflictError(SessionManagerError):
    """40001 serialization_failure or 40P01 deadlock_detected, after the retries allowed for the call."""

    default_sqlstate = "40001"


class DatabaseError(SessionManagerError):
    """Any other error the server reported (e.g. 42883 when the package is not deployed); see sqlstate."""


class DatabaseUnavailableError(SessionManagerError):
    """Base class of the errors that mean no database answered: catch this to fall back or retry later."""


class ConnectionFailedError(DatabaseUnavailableError):
    """The client could not connect: unreachable server, bad DSN, authentication failure."""


class ConnectionLostError(DatabaseUnavailableError):
    """The connection broke during a call (server restart, terminated backend, network cut). Calls the
    contract lists as retryable were retried before this was raised; the others never are."""


class PoolTimeoutError(DatabaseUnavailableError):
    """No connection within the acquire timeout (server gone or pool exhausted), or too many waiting."""


class ClosedError(SessionManagerError):
    """A call on a session manager after close()."""


#: SQLSTATE -> exception class. Whatever is not here becomes DatabaseError (class 08: ConnectionFailedError).
SQLSTATE_ERRORS: dict[str, type[SessionManagerError]] = {
    "22004": NullArgumentError,
    "22023": InvalidArgumentError,
    NUL_BYTE_SQLSTATE: InvalidArgumentError,
    "22003": InvalidArgumentError,  # numeric_value_out_of_range: e.g. max_messages beyond integer
    "22001": ContentTooLongError,
    "P0002": NotFoundError,
    "55000": SessionNotLiveError,
    "23505": DuplicateMessageError,
    "42501": PermissionDeniedError,
    "40001": TransactionConflictError,
    "40P01": TransactionConflictError,
    "57P01": ConnectionLostError,  # admin_shutdown: pg_terminate_backend, fast shutdown
    "57P02": ConnectionLostError,  # crash_shutdown
    "57P03": ConnectionLostError,  # cannot_connect_now: starting up or shutting down
}


def nul_byte_error(argument: str) -> InvalidArgumentError:
    """The error for a NUL byte in a text argument, which PostgreSQL cannot store."""
    return InvalidArgumentError(f"{argument} contains a NUL byte (0x00), which PostgreSQL text cannot hold",
                                sqlstate=NUL_BYTE_SQLSTATE, hint="Remove or escape the NUL characters.")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def translate(exc: BaseException, *, connection_broken: bool = False) -> SessionManagerError:
    """The client's exception for a psycopg or psycopg_pool error. Raise it ``from exc``.

    ``connection_broken``: the connection the error came from is closed now, so it is a lost connection
    whatever the error says.
    """
    if isinstance(exc, SessionManagerError):
        return exc
    if isinstance(exc, psycopg_pool.PoolClosed):
        return ClosedError("the session manager is closed")
    if isinstance(exc, psycopg_pool.TooManyRequests):
        return PoolTimeoutError(f"too many callers waiting for a connection: {exc}",
                                hint="Raise max_waiting or max_size, or reduce concurrency.")
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return PoolTimeoutError(f"no database connection available: {exc}",
                                hint="Check that the server is up and reachable; raise timeout or max_size.")
    if isinstance(exc, UnicodeEncodeError):  # a lone surrogate: no encoding, PostgreSQL's included, holds one
        bad = exc.object[exc.start:exc.end]
        return InvalidArgumentError(f"a text argument cannot be encoded ({exc.reason}: {bad!r})",
                                    sqlstate=NUL_BYTE_SQLSTATE, hint="Pass valid Unicode text (no lone surrogates).")
    if not isinstance(exc, psycopg.Error):
        return SessionManagerError(_one_line(str(exc)) or type(exc).__name__)

    sqlstate = exc.sqlstate
    diag = exc.diag
    message = diag.message_primary or _one_line(str(exc)) or type(exc).__name__
    kwargs: dict[str, str | None] = {"sqlstate": sqlstate, "hint": diag.message_hint, "detail": diag.message_detail}
    if sqlstate is None and isinstance(exc, psycopg.DataError) and "NUL" in str(exc):
        return nul_byte_error("a text argument")
    if sqlstate in SQLSTATE_ERRORS:
        return SQLSTATE_ERRORS[sqlstate](message, **kwargs)
    if connection_broken or (sqlstate or "").startswith("08"):
        return ConnectionLostError(message, **kwargs)
    if sqlstate is None and isinstance(exc, psycopg.OperationalError):
        return ConnectionFailedError(message, **kwargs)
    if sqlstate is None and isinstance(exc, (psycopg.DataError, psycopg.ProgrammingError)):
        return InvalidArgumentError(message, **kwargs)  # refused by psycopg before sending (cannot adapt)
    return DatabaseError(message, **kwargs)
