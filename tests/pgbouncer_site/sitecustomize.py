"""Puts PgBouncer between the Python client and the server in every Python process of a test run.

tests/test_faults_pgbouncer.py runs the client's own test suite (tests/test_client_*.py) in a subprocess
with this directory on PYTHONPATH and SM_PGBOUNCER_REDIRECT="<server port>:<pgbouncer port>". Every
SessionManager and AsyncSessionManager then gets the DSN it was given with the server's port replaced by
PgBouncer's, and server-side prepared statements off unless the caller chose (what an application behind
PgBouncer in transaction mode sets). Everything else (the fixtures' superuser connections that create
databases, roles and rows, and kill backends) still talks to the server directly. The `session-manager`
command run by the CLI tests is a Python process too, so it is redirected the same way.
"""
from __future__ import annotations

import os
from typing import Any

_SPEC = os.environ.get("SM_PGBOUNCER_REDIRECT")

if _SPEC:
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        from session_manager import manager
    except ImportError:  # a Python without the client (a helper script): nothing to redirect
        manager = None

    SERVER_PORT, BOUNCER_PORT = _SPEC.split(":")

    def _redirect(dsn: str) -> str:
        try:
            params = conninfo_to_dict(dsn)
        except Exception:
            return dsn  # a malformed DSN: let the client report it
        ports = str(params.get("port") or "").split(",")
        if SERVER_PORT not in ports:
            return dsn
        params["port"] = ",".join(BOUNCER_PORT if p == SERVER_PORT else p for p in ports)
        return make_conninfo("", **params)

    if manager is not None:
        _original = manager._ManagerBase.__init__

        def _init(self: Any, dsn: str, **options: Any) -> None:
            options.setdefault("prepared_statements", False)
            _original(self, _redirect(dsn), **options)

        manager._ManagerBase.__init__ = _init  # type: ignore[method-assign]
