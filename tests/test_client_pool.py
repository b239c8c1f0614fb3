"""The pool: dead and unresponsive servers, exhaustion, the server going away and coming back, lost
connections and the retry rule, prepared statements, multi-host DSNs, user scoping, logging."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg.rows import dict_row

from session_manager import (
    ClosedError,
    ConnectionFailedError,
    ConnectionLostError,
    DatabaseUnavailableError,
    NotFoundError,
    PoolSettings,
    PoolTimeoutError,
    SessionManager,
    SessionManagerError,
)

if TYPE_CHECKING:
    from client_fixtures import TcpProxy

pytest_plugins = ["client_fixtures"]


def elapsed(call: Callable[[], object]) -> tuple[float, SessionManagerError | None]:
    started = time.perf_counter()
    try:
        call()
    except SessionManagerError as exc:
        return time.perf_counter() - started, exc
    return time.perf_counter() - started, None


# --- Unreachable servers --------------------------------------------------------------------------------

def test_call_against_a_closed_port_fails_at_once_with_connection_failed(closed_port: int) -> None:
    m = SessionManager(f"postgresql://postgres@127.0.0.1:{closed_port}/chat", timeout=3.0)
    seconds, error = elapsed(lambda: m.touch_session("x"))
    assert isinstance(error, ConnectionFailedError) and isinstance(error, DatabaseUnavailableError)
    assert "refused" in error.message.lower()
    assert isinstance(error.__cause__, psycopg.OperationalError)
    assert seconds < 3.0


def test_call_against_an_unresponsive_server_fails_within_the_default_15_seconds(blackhole_port: int) -> None:
    assert PoolSettings().timeout == 15.0
    m = SessionManager(f"postgresql://postgres@127.0.0.1:{blackhole_port}/chat")
    seconds, error = elapsed(m.version)
    assert isinstance(error, ConnectionFailedError), error
    assert seconds < 15.0


def test_call_against_an_unresponsive_server_honours_a_shorter_timeout(blackhole_port: int) -> None:
    m = SessionManager(f"postgresql://postgres@127.0.0.1:{blackhole_port}/chat", timeout=2.5, connect_timeout=2)
    seconds, error = elapsed(lambda: m.get_session_info("x"))
    assert isinstance(error, ConnectionFailedError) and seconds < 2.5 + 0.5


def test_a_malformed_dsn_is_refused_by_the_constructor() -> None:
    with pytest.raises(ConnectionFailedError, match="invalid DSN"):
        SessionManager("host=localhost port=5432 = nonsense")


def test_an_unknown_database_fails_with_the_server_reason(db: str) -> None:
    m = SessionManager(db.rsplit("/", 1)[0] + "/no_such_database_here", timeout=3.0)
    seconds, error = elapsed(m.open)
    assert isinstance(error, ConnectionFailedError) and "no_such_database_here" in error.message
    assert seconds < 3.0


def test_the_server_going_away_fails_within_the_timeout_then_the_pool_reconnects(
        proxy: tuple[TcpProxy, str], new_user: Callable[[], str]) -> None:
    relay, dsn = proxy
    with SessionManager(dsn, min_size=1, max_size=2, timeout=2.0) as m:
        s = m.get_or_create_session(new_user(), "geral", chat_id="gone")
        relay.stop()
        seconds, error = elapsed(lambda: m.touch_session(s.session_id))
        assert isinstance(error, DatabaseUnavailableError), error
        assert seconds < 2.0 + 1.0
        relay.start()
        deadline = time.monotonic() + 20
        while True:  # the pool reconnects in the background, with its own backoff
            try:
                assert m.touch_session(s.session_id) is True
                break
            except DatabaseUnavailableError:
                assert time.monotonic() < deadline, "the pool did not reconnect"


# --- Exhaustion ----------------------------------------------------------------------------------------------

def test_an_exhausted_pool_raises_pool_timeout_after_the_acquire_timeout(db: str) -> None:
    with SessionManager(db, min_size=1, max_size=1, timeout=0.5) as m, m.connection():
        seconds, error = elapsed(m.version)
    assert isinstance(error, PoolTimeoutError) and 0.4 < seconds < 2.0


def test_beyond_max_waiting_a_call_fails_at_once(db: str) -> None:
    with SessionManager(db, min_size=1, max_size=1, timeout=5.0, max_waiting=1) as m:
        with m.connection():
            waiter = threading.Thread(target=m.version)
            waiter.start()
            while m.pool_stats().get("requests_waiting", 0) < 1:
                time.sleep(0.01)
            seconds, error = elapsed(m.version)
        waiter.join()
    assert isinstance(error, PoolTimeoutError) and "waiting" in error.message and seconds < 1.0


# --- Lost connections and the retry rule -------------------------------------------------------------------

def terminate_during(db: str, app: str, lock_sql: str, lock_params: tuple[Any, ...],
                     call: Callable[[], object]) -> tuple[object, SessionManagerError | None]:
    """Runs `call` while a row it needs is locked, terminates its backend while it waits (a lost
    connection in the middle of the call), then releases the lock; returns the call's result or error."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except SessionManagerError as exc:
            outcome["error"] = exc

    with psycopg.connect(db) as locker, psycopg.connect(db, autocommit=True) as admin:
        locker.execute(lock_sql, lock_params)
        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 10
        while True:
            row = admin.execute("""SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                   WHERE application_name = %s AND wait_event_type = 'Lock'""", (app,)).fetchone()
            if row is not None:
                break
            assert time.monotonic() < deadline, "the call never waited on the lock"
            time.sleep(0.01)
        time.sleep(0.1)  # let the client see the lost connection (and start its retry) before the lock goes
        locker.commit()
        worker.join(10)
    return outcome.get("result"), outcome.get("error")


@pytest.fixture()
def app_name() -> str:
    return "sm_test_" + uuid.uuid4().hex[:8]


@pytest.fixture()
def manager(db: str, app_name: str) -> Iterator[SessionManager]:
    with SessionManager(db, min_size=1, max_size=2, timeout=5.0, name=app_name) as m:
        yield m


LOCK_SESSION = 'SELECT 1 FROM public."conversationSessions" WHERE id = %s FOR UPDATE'
LOCK_USER = 'SELECT 1 FROM public."user" WHERE id = %s FOR UPDATE'


def test_a_touch_whose_connection_is_lost_is_retried(db: str, app_name: str, manager: SessionManager,
                                                     new_user: Callable[[], str]) -> None:
    s = manager.get_or_create_session(new_user(), "geral", chat_id="lost")
    result, error = terminate_during(db, app_name, LOCK_SESSION, (s.session_id,),
                                     lambda: manager.touch_session(s.session_id))
    assert error is None and result is True
    assert manager.call_stats()["touch_session"].retries == 1


def test_an_append_whose_connection_is_lost_is_retried_and_stored_once(db: str, app_name: str,
                                                                        manager: SessionManager,
                                                                        new_user: Callable[[], str]) -> None:
    s = manager.get_or_create_session(new_user(), "geral", chat_id="lost-append")
    result, error = terminate_during(db, app_name, LOCK_SESSION, (s.session_id,),
                                     lambda: manager.append_message(s.session_id, "user", "oi"))
    assert error is None and result is not None
    assert [m.content for m in manager.get_context(s.session_id)] == ["oi"]


def test_end_session_whose_connection_is_lost_is_not_retried(db: str, app_name: str, manager: SessionManager,
                                                             new_user: Callable[[], str]) -> None:
    s = manager.get_or_create_session(new_user(), "geral")
    _, error = terminate_during(db, app_name, LOCK_SESSION, (s.session_id,),
                                lambda: manager.end_session(s.session_id))
    assert isinstance(error, ConnectionLostError) and isinstance(error, DatabaseUnavailableError)
    assert manager.call_stats()["end_session"].retries == 0
    assert manager.end_session(s.session_id) is True  # the lost call changed nothing


@pytest.mark.parametrize(("chat_id", "retried"), [("lost-create", True), (None, False)])
def test_get_or_create_is_retried_only_with_a_chat_id(db: str, app_name: str, manager: SessionManager,
                                                      new_user: Callable[[], str], chat_id: str | None,
                                                      retried: bool) -> None:
    user = new_user()
    result, error = terminate_during(db, app_name, LOCK_USER, (user,),
                                     lambda: manager.get_or_create_session(user, "geral", chat_id=chat_id))
    if retried:
        assert error is None and result is not None
    else:
        assert isinstance(error, ConnectionLostError)
    assert manager.call_stats()["get_or_create_session"].retries == (1 if retried else 0)


def test_killed_idle_connections_are_replaced_on_checkout_without_error(db: str, app_name: str,
                                                                        manager: SessionManager,
                                                                        conn: psycopg.Connection,
                                                                        package_version: str) -> None:
    assert manager.version()
    conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (app_name,))
    time.sleep(0.2)
    assert manager.version() == package_version
    assert manager.call_stats()["version"].retries == 0


# --- Prepared statements, multi-host DSNs ----------------------------------------------------------------

@pytest.mark.parametrize("prepared", [True, False])
def test_prepared_statements_can_be_turned_off_for_pgbouncer(db: str, prepared: bool) -> None:
    with SessionManager(db, min_size=1, max_size=1, prepared_statements=prepared) as m:
        for _ in range(8):
            m.touch_session("x")
        with m.connection() as c:
            row = c.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%touch_session%'")
            count = row.fetchone()
            assert c.prepare_threshold == (5 if prepared else None)
    assert count is not None and (count[0] > 0) is prepared


def test_a_multi_host_dsn_is_passed_through_untouched(db: str, closed_port: int, package_version: str) -> None:
    info = psycopg.conninfo.conninfo_to_dict(db)
    dsn = (f"host=127.0.0.1,{info['host']} port={closed_port},{info['port']} dbname={info['dbname']} "
           f"user={info['user']} target_session_attrs=read-write")
    with SessionManager(dsn, min_size=1, max_size=1) as m:
        assert m.version() == package_version
        with m.connection() as c:
            assert str(c.info.port) == str(info["port"])


# --- Lifecycle, scoping, logging ---------------------------------------------------------------------------

def test_the_pool_opens_on_first_call_and_refuses_calls_after_close(db: str, package_version: str) -> None:
    m = SessionManager(db, min_size=1, max_size=1)
    assert m.pool_stats() == {} and "not open" in repr(m)
    assert m.version() == package_version
    assert m.pool_stats()["pool_size"] == 1
    m.close()
    with pytest.raises(ClosedError):
        m.version()


def test_acting_as_scopes_every_call_to_one_user(sessions: SessionManager, new_user: Callable[[], str]) -> None:
    alice, bob = new_user(), new_user()
    a = sessions.get_or_create_session(alice, "geral", chat_id="x")
    b = sessions.get_or_create_session(bob, "geral", chat_id="x")
    with sessions.acting_as(alice) as as_alice:
        assert as_alice.user_id == alice
        assert as_alice.touch_session(a.session_id) is True
        assert as_alice.touch_session(b.session_id) is False
        assert as_alice.get_session_info(b.session_id) is None
        assert as_alice.list_user_sessions(bob) == []
        with pytest.raises(NotFoundError):
            as_alice.append_message(b.session_id, "user", "not mine")
        with pytest.raises(NotFoundError):
            as_alice.get_or_create_session(bob, "geral", chat_id="y")
    assert sessions.version()  # closing the view left the shared pool open


def test_the_application_role_works_through_the_client_scoped_to_its_user(
        db: str, new_user: Callable[[], str], login_role: Callable[..., str],
        as_role: Callable[[str, str], str]) -> None:
    alice, bob = new_user(), new_user()
    with SessionManager(as_role(db, login_role("session_manager_app")), min_size=1, max_size=1) as app:
        as_alice = app.acting_as(alice)
        s = as_alice.get_or_create_session(alice, "geral", chat_id="app-role")
        as_alice.append_message(s.session_id, "user", "oi")
        assert [m.content for m in as_alice.get_context(s.session_id)] == ["oi"]
        assert as_alice.touch_session(s.session_id) is True
        with app.connection() as c:  # Row Level Security: the role's own reads see only the scoped user's rows
            with c.transaction():
                c.execute("SELECT set_config('session_manager.user_id', %s, true)", (bob,))
                row = c.execute('SELECT count(*) FROM public."conversationSessions" WHERE id = %s',
                                (s.session_id,)).fetchone()
            assert row is not None and row[0] == 0
        assert app.acting_as(bob).get_session_info(s.session_id) is None


def test_user_id_option_scopes_a_whole_manager(db: str, new_user: Callable[[], str]) -> None:
    alice, bob = new_user(), new_user()
    with SessionManager(db, min_size=1, max_size=1) as m:
        b = m.get_or_create_session(bob, "max")
    with SessionManager(db, min_size=1, max_size=1, user_id=alice) as m:
        assert m.get_session_info(b.session_id) is None
        assert m.get_or_create_session(alice, "max").user_id == alice


def test_calls_are_logged_at_debug_and_content_never_above(sessions: SessionManager, new_user: Callable[[], str],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    s = sessions.get_or_create_session(new_user(), "geral")
    with caplog.at_level("DEBUG", logger="session_manager"):
        sessions.append_message(s.session_id, "user", "SECRET-CONTENT-42")
        with pytest.raises(SessionManagerError):
            sessions.append_message(s.session_id, "robot", "SECRET-CONTENT-43")
    mine = [r for r in caplog.records if r.name == "session_manager"]
    assert any(r.levelname == "DEBUG" and r.getMessage().startswith("append_message: ok in") for r in mine)
    assert any(r.levelname == "DEBUG" and r.getMessage().startswith("append_message: failed in") for r in mine)
    assert not any("SECRET-CONTENT" in r.getMessage() for r in caplog.records if r.levelno > 10)


# --- What connection() leaves behind (found by review, 0.5.2) ---------------------------------------------

def test_state_left_by_connection_does_not_reach_the_clients_calls(db: str, new_user: Callable[[], str]) -> None:
    user, other = new_user(), new_user()
    with SessionManager(db, min_size=1, max_size=1) as m:  # one connection: the same one comes back
        sid = m.get_or_create_session(user, "geral", chat_id="c-state").session_id
        theirs = m.get_or_create_session(other, "geral", chat_id="c-state").session_id
        with m.connection() as c:
            c.autocommit = False
            c.row_factory = dict_row  # type: ignore[assignment]
            c.execute("SELECT set_config('session_manager.user_id', %s, false)", (other,))
            c.execute("CREATE TEMP TABLE left_behind (x int)")
            c.execute("SET ROLE session_manager_monitor")  # may not call append_message
            c.execute("SELECT 1")
        stored = m.append_message(sid, "user", "kept")
        info = m.get_session_info(sid)
        assert info is not None and info.session_id == sid and info.message_count == 1  # tuples, and not scoped
        assert m.get_session_info(theirs) is not None
        with m.connection() as c:
            assert c.autocommit and c.row_factory is not dict_row
            row = c.execute("SELECT count(*) FROM session_manager.messages WHERE message_id = %s",
                            (stored.message_id,)).fetchone()
            assert row == (1,)  # the append was committed, not rolled back with a leftover transaction
            assert c.execute("SELECT current_setting('session_manager.user_id', true)").fetchone() in ((None,), ("",))
            assert c.execute("SELECT current_user = session_user, to_regclass('pg_temp.left_behind')").fetchone() \
                == (True, None)


def test_metrics_whose_connection_is_lost_is_retried(db: str, app_name: str, manager: SessionManager) -> None:
    pytest.importorskip("prometheus_client")
    # Read-only monitoring is retried (the contract); metrics() reads its views through connection().
    result, error = terminate_during(db, app_name, "LOCK TABLE session_manager.settings IN ACCESS EXCLUSIVE MODE", (),
                                     manager.metrics)
    assert error is None and result is not None
    assert manager.call_stats()["metrics"].retries == 1


def test_metrics_whose_socket_is_cut_is_retried(db: str, app_name: str, proxy: tuple[TcpProxy, str]) -> None:
    pytest.importorskip("prometheus_client")
    # The network cut mid-read (no SQLSTATE, the socket closed): a lost connection, retried like a killed backend.
    relay, dsn = proxy
    outcome: dict[str, Any] = {}
    with SessionManager(dsn, min_size=1, max_size=1, timeout=10.0, name=app_name) as m, \
            psycopg.connect(db) as locker, psycopg.connect(db, autocommit=True) as admin:
        locker.execute("LOCK TABLE session_manager.settings IN ACCESS EXCLUSIVE MODE")
        worker = threading.Thread(target=lambda: outcome.update(result=m.metrics()))
        worker.start()
        deadline = time.monotonic() + 10
        waiting = """SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'"""
        while admin.execute(waiting, (app_name,)).fetchone() is None:
            assert time.monotonic() < deadline, "metrics() never waited on the lock"
            time.sleep(0.01)
        relay.stop()
        relay.start()
        time.sleep(0.1)
        locker.commit()
        worker.join(15)
        assert outcome.get("result") is not None
        assert m.call_stats()["metrics"].retries >= 1
