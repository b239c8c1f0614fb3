"""Every error class of the client, each with its SQLSTATE, raised by the real server; NUL bytes; the
translation keeps psycopg's error as __cause__, so a caller never needs to import psycopg."""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest

from session_manager import (
    SQLSTATE_ERRORS,
    ContentTooLongError,
    DatabaseError,
    DuplicateMessageError,
    InvalidArgumentError,
    NotFoundError,
    NullArgumentError,
    PermissionDeniedError,
    SessionInfo,
    SessionManager,
    SessionManagerError,
    SessionNotLiveError,
    TransactionConflictError,
)
from session_manager.errors import translate

pytest_plugins = ["client_fixtures"]


@pytest.fixture()
def live(sessions: SessionManager, new_user: Callable[[], str]) -> SessionInfo:
    return sessions.get_or_create_session(new_user(), "geral", chat_id="c-" + uuid.uuid4().hex[:8])


def raised(call: Callable[[], object]) -> SessionManagerError:
    with pytest.raises(SessionManagerError) as info:
        call()
    return info.value


# --- 22004 null_value_not_allowed -------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda m: m.touch_session(None),
    lambda m: m.touch_sessions(["x", None]),
    lambda m: m.end_session(None),
    lambda m: m.get_or_create_session(None, "geral"),
    lambda m: m.get_or_create_session("u", None),
    lambda m: m.get_session_info(None),
    lambda m: m.list_user_sessions(None),
], ids=["touch_session", "touch_sessions", "end_session", "get_or_create_user", "get_or_create_agent",
        "get_session_info", "list_user_sessions"])
def test_a_none_argument_raises_null_argument_error(sessions: SessionManager,
                                                    call: Callable[[SessionManager], object]) -> None:
    error = raised(lambda: call(sessions))
    assert type(error) is NullArgumentError and error.sqlstate == "22004"
    assert isinstance(error, InvalidArgumentError)  # catching the argument errors at once works
    assert error.hint  # the server's HINT tells what to do


def test_append_with_none_content_raises_null_argument_error(sessions: SessionManager, live: SessionInfo) -> None:
    error = raised(lambda: sessions.append_message(live.session_id, "user", None))  # type: ignore[arg-type]
    assert type(error) is NullArgumentError and "content" in error.message


# --- 22023 invalid_parameter_value ------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda m, s: m.touch_session(""),
    lambda m, s: m.touch_sessions([""]),
    lambda m, s: m.get_or_create_session(s.user_id, "robot"),
    lambda m, s: m.get_or_create_session(s.user_id, "geral", chat_id=""),
    lambda m, s: m.append_message(s.session_id, "robot", "oi"),
    lambda m, s: m.append_message(s.session_id, "user", ""),
    lambda m, s: m.get_context(s.session_id, max_messages=0),
    lambda m, s: m.get_context(s.session_id, max_messages=-3),
    lambda m, s: m.cleanup_old_sessions(timedelta(0)),
    lambda m, s: m.cleanup_old_sessions(timedelta(minutes=-5)),
], ids=["empty_id", "empty_id_in_list", "agent_not_allowed", "empty_chat", "role_not_allowed", "empty_content",
        "zero_limit", "negative_limit", "zero_timeout", "negative_timeout"])
def test_an_invalid_argument_raises_invalid_argument_error(
        sessions: SessionManager, live: SessionInfo, call: Callable[[SessionManager, SessionInfo], object]) -> None:
    error = raised(lambda: call(sessions, live))
    assert type(error) is InvalidArgumentError and error.sqlstate == "22023"
    assert isinstance(error.__cause__, psycopg.Error)  # the original is kept


def test_a_limit_beyond_integer_raises_invalid_argument_error_22003(sessions: SessionManager,
                                                                     live: SessionInfo) -> None:
    error = raised(lambda: sessions.get_context(live.session_id, max_messages=2**40))
    assert type(error) is InvalidArgumentError and error.sqlstate == "22003"


# --- NUL bytes: 22021, refused before sending --------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda m, s: m.append_message(s.session_id, "user", "a\x00b"),
    lambda m, s: m.touch_session("x\x00"),
    lambda m, s: m.touch_sessions([s.session_id, "\x00"]),
    lambda m, s: m.get_or_create_session(s.user_id, "geral", chat_id="c\x00"),
    lambda m, s: m.get_or_create_session(s.user_id, "geral", title="t\x00"),
    lambda m, s: m.get_context("\x00"),
    lambda m, s: m.acting_as("u\x00"),
], ids=["content", "session_id", "id_in_list", "chat_id", "title", "get_context", "acting_as"])
def test_a_nul_byte_raises_invalid_argument_error_22021(sessions: SessionManager, live: SessionInfo,
                                                         call: Callable[[SessionManager, SessionInfo], object]) -> None:
    error = raised(lambda: call(sessions, live))
    assert type(error) is InvalidArgumentError and error.sqlstate == "22021"
    assert "NUL" in error.message
    info = sessions.get_session_info(live.session_id)
    assert info is not None and info.message_count == 0  # nothing was written


def test_psycopg_refusing_a_nul_byte_is_translated_too() -> None:
    try:
        psycopg.adapt.Transformer().get_dumper("a\x00", psycopg.adapt.PyFormat.TEXT).dump("a\x00")
    except psycopg.DataError as exc:
        error = translate(exc)
    assert type(error) is InvalidArgumentError and error.sqlstate == "22021"


# --- 22001, P0002, 55000, 23505 -------------------------------------------------------------------------

def test_content_longer_than_the_setting_raises_content_too_long(sessions: SessionManager, live: SessionInfo) -> None:
    sessions.append_message(live.session_id, "user", "x" * 65536)  # exactly the limit is fine
    error = raised(lambda: sessions.append_message(live.session_id, "user", "x" * 65537))
    assert type(error) is ContentTooLongError and error.sqlstate == "22001"
    assert isinstance(error, InvalidArgumentError)


def test_append_to_unknown_session_raises_not_found(sessions: SessionManager) -> None:
    error = raised(lambda: sessions.append_message("no-such-session", "user", "oi"))
    assert type(error) is NotFoundError and error.sqlstate == "P0002"


def test_get_or_create_for_unknown_user_raises_not_found(sessions: SessionManager) -> None:
    error = raised(lambda: sessions.get_or_create_session("nobody-" + uuid.uuid4().hex, "geral", chat_id="c"))
    assert type(error) is NotFoundError and error.sqlstate == "P0002"


def test_append_to_ended_session_raises_session_not_live(sessions: SessionManager, live: SessionInfo) -> None:
    sessions.end_session(live.session_id)
    error = raised(lambda: sessions.append_message(live.session_id, "user", "oi"))
    assert type(error) is SessionNotLiveError and error.sqlstate == "55000"


def test_append_to_idle_session_raises_session_not_live(sessions: SessionManager, live: SessionInfo,
                                                        make_idle: Callable[[str], None]) -> None:
    make_idle(live.session_id)
    assert type(raised(lambda: sessions.append_message(live.session_id, "user", "oi"))) is SessionNotLiveError


def test_reused_message_id_with_other_content_raises_duplicate_message(sessions: SessionManager,
                                                                       live: SessionInfo) -> None:
    mid = uuid.uuid4()
    sessions.append_message(live.session_id, "user", "first", message_id=mid)
    error = raised(lambda: sessions.append_message(live.session_id, "user", "second", message_id=mid))
    assert type(error) is DuplicateMessageError and error.sqlstate == "23505"


def test_message_id_must_be_a_uuid(sessions: SessionManager, live: SessionInfo) -> None:
    with pytest.raises(TypeError):
        sessions.append_message(live.session_id, "user", "x", message_id=str(uuid.uuid4()))  # type: ignore[arg-type]


# --- 42501, 40001/40P01 and anything else -----------------------------------------------------------------

def test_a_role_without_grants_gets_permission_denied(db: str, login_role: Callable[..., str],
                                                      as_role: Callable[[str, str], str]) -> None:
    with SessionManager(as_role(db, login_role()), min_size=1, max_size=1) as m:
        error = raised(lambda: m.touch_session("x"))
    assert type(error) is PermissionDeniedError and error.sqlstate == "42501"


def test_a_database_without_the_package_raises_database_error(server: object) -> None:
    with SessionManager(server.dsn("postgres"), min_size=1, max_size=1) as m:  # type: ignore[attr-defined]
        error = raised(m.version)
    assert type(error) is DatabaseError and error.sqlstate in ("3F000", "42883")


@pytest.fixture()
def conflict_once(conn: psycopg.Connection) -> Iterator[Callable[[str, str], None]]:
    """Arms a trigger that makes the next UPDATE of one session fail once with a given SQLSTATE, as a
    serialization failure or a deadlock would."""
    # The failed UPDATE rolls back whatever the trigger wrote, but not a sequence: it counts the tries.
    conn.execute("CREATE SEQUENCE IF NOT EXISTS public.client_test_tries")
    conn.execute("""CREATE TABLE IF NOT EXISTS public.client_test_conflicts
                    (session_id text PRIMARY KEY, code text, armed_at bigint)""")
    conn.execute("""
        CREATE OR REPLACE FUNCTION public.client_test_conflict() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE armed public.client_test_conflicts;
        BEGIN
          SELECT * INTO armed FROM public.client_test_conflicts WHERE session_id = NEW.id;
          IF FOUND AND nextval('public.client_test_tries') = armed.armed_at + 1 THEN
            RAISE EXCEPTION 'injected conflict' USING ERRCODE = armed.code;
          END IF;
          RETURN NEW;
        END $$""")
    conn.execute("""CREATE OR REPLACE TRIGGER client_test_conflict BEFORE UPDATE ON public."conversationSessions"
                    FOR EACH ROW EXECUTE FUNCTION public.client_test_conflict()""")

    def arm(session_id: str, code: str) -> None:
        conn.execute("""INSERT INTO public.client_test_conflicts VALUES (%s, %s, nextval('public.client_test_tries'))
                        ON CONFLICT (session_id) DO UPDATE SET code = EXCLUDED.code, armed_at = EXCLUDED.armed_at""",
                     (session_id, code))

    yield arm
    conn.execute('DROP TRIGGER client_test_conflict ON public."conversationSessions"')


@pytest.mark.parametrize("code", ["40001", "40P01"])
def test_a_touch_that_meets_a_conflict_is_retried(sessions: SessionManager, live: SessionInfo,
                                                  conflict_once: Callable[[str, str], None], code: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    before = sessions.call_stats()["touch_session"].retries
    conflict_once(live.session_id, code)
    with caplog.at_level("WARNING", logger="session_manager"):
        assert sessions.touch_session(live.session_id) is True
    assert sessions.call_stats()["touch_session"].retries == before + 1
    assert any("retrying" in r.getMessage() and code in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("code", ["40001", "40P01"])
def test_end_session_that_meets_a_conflict_is_not_retried(sessions: SessionManager, live: SessionInfo,
                                                          conflict_once: Callable[[str, str], None],
                                                          code: str) -> None:
    conflict_once(live.session_id, code)
    error = raised(lambda: sessions.end_session(live.session_id))
    assert type(error) is TransactionConflictError and error.sqlstate == code
    assert sessions.end_session(live.session_id) is True  # a second, deliberate call works


# --- The mapping table ----------------------------------------------------------------------------------

def test_every_contract_sqlstate_has_its_own_class() -> None:
    contract = {"22004": NullArgumentError, "22023": InvalidArgumentError, "22001": ContentTooLongError,
                "P0002": NotFoundError, "55000": SessionNotLiveError, "23505": DuplicateMessageError}
    for sqlstate, cls in contract.items():
        assert SQLSTATE_ERRORS[sqlstate] is cls
        assert cls.default_sqlstate == sqlstate
        assert issubclass(cls, SessionManagerError)


def test_an_error_prints_its_message_and_hint(sessions: SessionManager) -> None:
    error = raised(lambda: sessions.touch_session(""))
    assert str(error) == f"{error.message} (hint: {error.hint})"


# --- Found by review (0.5.2) -------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda m, s: m.append_message(s.session_id, "user", "a\ud800b"),
    lambda m, s: m.touch_session("x\udfff"),
    lambda m, s: m.append_message(s.session_id, "user", "x", metadata={"k": "\ud800"}),
], ids=["content", "session_id", "metadata"])
def test_a_lone_surrogate_raises_invalid_argument_error_22021(
        sessions: SessionManager, live: SessionInfo, call: Callable[[SessionManager, SessionInfo], object]) -> None:
    error = raised(lambda: call(sessions, live))
    assert type(error) is InvalidArgumentError and error.sqlstate == "22021"
    info = sessions.get_session_info(live.session_id)
    assert info is not None and info.message_count == 0


@pytest.mark.parametrize("user_id, error_class", [("", InvalidArgumentError), (None, NullArgumentError)])
def test_acting_as_nobody_is_refused_not_unscoped(sessions: SessionManager, live: SessionInfo,
                                                   user_id: str | None, error_class: type[SessionManagerError]) -> None:
    # The server reads '' as "no scope": such a view would see and end every user's sessions.
    error = raised(lambda: sessions.acting_as(user_id))  # type: ignore[arg-type]
    assert type(error) is error_class
    error = raised(lambda: SessionManager(sessions._dsn, user_id=""))
    assert type(error) is InvalidArgumentError


def test_a_server_error_after_max_lifetime_is_not_a_lost_connection(server: object) -> None:
    # The pool closes a connection past max_lifetime when it is given back: the error it carried is
    # still the server's, reported once, never retried as a lost connection.
    with SessionManager(server.dsn("postgres"), min_size=1, max_size=1,  # type: ignore[attr-defined]
                        max_lifetime=1.0) as m:
        time.sleep(1.5)
        error = raised(m.version)
        assert type(error) is DatabaseError and error.sqlstate in ("3F000", "42883")
        assert m.call_stats()["version"].retries == 0
