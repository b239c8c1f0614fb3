"""The client's pure parts, without a database: error translation, the retry policy, pool settings,
connection arguments. Everything that talks to PostgreSQL is tested against the real server elsewhere."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import psycopg
import psycopg_pool
import pytest
from psycopg import errors as pg

from session_manager import (
    ClosedError,
    ConnectionLostError,
    DatabaseError,
    InvalidArgumentError,
    Message,
    NullArgumentError,
    PoolSettings,
    PoolTimeoutError,
    RetryPolicy,
    SessionManager,
    SessionManagerError,
    TransactionConflictError,
)
from session_manager.errors import translate
from session_manager.pool import CALL_BUCKETS, CallStats, connection_kwargs


@pytest.mark.parametrize(("error", "cls", "sqlstate"), [
    (pg.SerializationFailure("x"), TransactionConflictError, "40001"),
    (pg.DeadlockDetected("x"), TransactionConflictError, "40P01"),
    (pg.AdminShutdown("x"), ConnectionLostError, "57P01"),
    (pg.NullValueNotAllowed("x"), NullArgumentError, "22004"),
    (pg.UndefinedFunction("x"), DatabaseError, "42883"),
    (pg.ConnectionFailure("x"), ConnectionLostError, "08006"),
    (psycopg_pool.PoolTimeout("x"), PoolTimeoutError, None),
    (psycopg_pool.TooManyRequests("x"), PoolTimeoutError, None),
    (psycopg_pool.PoolClosed("x"), ClosedError, None),
])
def test_translate_maps_psycopg_errors_to_the_clients(error: Exception, cls: type[SessionManagerError],
                                                      sqlstate: str | None) -> None:
    translated = translate(error)
    assert type(translated) is cls and translated.sqlstate == sqlstate


def test_an_error_without_sqlstate_on_a_broken_connection_is_a_lost_connection() -> None:
    assert type(translate(psycopg.OperationalError("server closed the connection"),
                          connection_broken=True)) is ConnectionLostError


def test_a_client_side_adaptation_error_is_an_invalid_argument() -> None:
    assert type(translate(psycopg.ProgrammingError("cannot adapt type 'object'"))) is InvalidArgumentError


def test_retry_delays_grow_exponentially_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.05, max_delay=0.3)
    assert [policy.delay(n, 0.999999) for n in range(1, 6)] == pytest.approx([0.05, 0.1, 0.2, 0.3, 0.3], rel=1e-5)
    assert policy.delay(3, 0.0) == 0.0 and policy.delay(3, 0.5) == pytest.approx(0.1)


@pytest.mark.parametrize("options", [{"min_size": 5, "max_size": 2}, {"max_size": 0}, {"timeout": 0},
                                     {"max_waiting": -1}, {"connect_timeout": -1.0}])
def test_inconsistent_pool_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PoolSettings(**options)  # type: ignore[arg-type]


def test_an_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        SessionManager("dbname=x", max_connections=3)


def test_the_dsn_settings_win_over_the_clients_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    monkeypatch.delenv("PGAPPNAME", raising=False)
    defaults = connection_kwargs("host=db dbname=chat", PoolSettings(connect_timeout=7.5))
    assert defaults == {"autocommit": True, "prepare_threshold": 5, "connect_timeout": 8,
                        "application_name": "session_manager", "tcp_user_timeout": 15000,
                        "keepalives": 1, "keepalives_idle": 15, "keepalives_interval": 5}
    given = connection_kwargs("postgresql://db/chat?connect_timeout=3&application_name=bot&tcp_user_timeout=0"
                              "&keepalives=0", PoolSettings(prepared_statements=False))
    assert given == {"autocommit": True, "prepare_threshold": None, "keepalives_idle": 15, "keepalives_interval": 5}
    # Each keepalive setting on its own: the DSN's keepalives_idle wins, the others are still added.
    assert "keepalives_idle" not in connection_kwargs("host=db keepalives_idle=60", PoolSettings())


def test_every_host_of_a_dsn_is_tried_within_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # libpq's connect_timeout is per host: four hosts of 5 s each took 20 s against a 15 s timeout.
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    four = connection_kwargs("host=h1,h2,h3,h4 port=1,2,3,4 dbname=chat", PoolSettings())
    assert four["connect_timeout"] * 4 <= 15
    assert connection_kwargs("host=db dbname=chat", PoolSettings(timeout=3.0))["connect_timeout"] == 3
    assert connection_kwargs("host=db dbname=chat", PoolSettings(timeout=3.0))["tcp_user_timeout"] == 3000


def test_constructing_a_manager_does_no_io() -> None:
    m = SessionManager("postgresql://nobody@203.0.113.1:1/nothing")  # TEST-NET-3: would hang if contacted
    assert m.pool_stats() == {} and m.call_stats() == {}
    m.close()


def test_call_stats_count_each_duration_in_the_first_bucket_at_or_above_it() -> None:
    stats = CallStats()
    for seconds in (0.0005, 0.00051, 0.003, 20.0):
        stats.record("touch_session", seconds, ok=True, retries=0)
    stats.record("touch_session", 0.003, ok=False, retries=2)
    t = stats.snapshot()["touch_session"]
    expected = [0] * (len(CALL_BUCKETS) + 1)
    expected[0] = 1  # 0.5 ms is "le 0.0005": a bound includes its own value, as Prometheus reads it
    expected[1] = 1  # 0.51 ms
    expected[CALL_BUCKETS.index(0.005)] = 2
    expected[-1] = 1  # above the top bound: only in +Inf
    assert list(t.bucket_counts) == expected
    assert (t.count, t.errors, t.retries, t.max_seconds) == (5, 1, 2, 20.0)
    assert stats.snapshot().get("version") is None


def test_a_message_with_metadata_is_hashable_and_compared_by_it() -> None:
    at = datetime(2026, 12, 4, tzinfo=timezone.utc)
    a = Message(uuid.UUID(int=1), "s", "tool", "", at, "max", {"tool_calls": []})
    b = Message(uuid.UUID(int=1), "s", "tool", "", at, "max", {"tool_calls": [1]})
    assert len({a, a}) == 1 and hash(a) == hash(b)  # a frozen dataclass holding a dict raised TypeError
    assert a != b
