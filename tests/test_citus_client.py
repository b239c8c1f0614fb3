"""The Python client's own tests, unchanged, against the package deployed on the Citus cluster
(issue 15): the same test functions as tests/test_client_sessions.py, test_client_errors.py,
test_client_concurrency.py and test_client_agent_memory.py, with the module's database (`db`)
being the Citus coordinator's deployed database instead of a clone on one node.

Left out, each for a reason of the one-node fixture, not of the client: the test that expects
pg_cron elsewhere (`cleanup_job_status` unknown: the Citus database is pg_cron's), the one against a
database without the package, and the two that inject a conflict with a trigger on the sessions
(Citus refuses triggers on distributed tables).
"""
from __future__ import annotations

import pytest
from citus_fixtures import CitusApp
from test_client_agent_memory import *  # noqa: F403
from test_client_concurrency import *  # noqa: F403
from test_client_errors import *  # noqa: F403
from test_client_sessions import *  # noqa: F403

pytest_plugins = ["client_fixtures", "citus_fixtures"]
pytestmark = pytest.mark.citus

# One-node fixtures, not behaviours of the client on Citus.
del test_cleanup_job_status_is_unknown_outside_pg_crons_database  # type: ignore[name-defined]  # noqa: F821
del test_a_database_without_the_package_raises_database_error  # type: ignore[name-defined]  # noqa: F821
# They inject the conflict with a trigger on "conversationSessions": Citus refuses triggers on
# distributed tables ("triggers are not supported on distributed tables").
del test_a_touch_that_meets_a_conflict_is_retried  # type: ignore[name-defined]  # noqa: F821
del test_end_session_that_meets_a_conflict_is_not_retried  # type: ignore[name-defined]  # noqa: F821


@pytest.fixture(scope="module")
def db(citus_app: CitusApp) -> str:
    """The Citus coordinator's deployed database, in place of a clone of the one-node template."""
    return citus_app.dsn()
