"""A network partition in the middle of a call: the server stops answering, the socket stays open.

A killed server resets its connections and the client sees the error at once; a partition (a cable,
a security group, a host that froze) sends nothing back, and without a bound the kernel retransmits
for some 15 minutes while the call waits. The client sets `tcp_user_timeout` to its `timeout`
(python_client/src/session_manager/pool.py), so a call across a partition fails within its timeout
with ConnectionLostError, and the pool serves again as soon as the network does.

A partition needs packets that go unanswered, which a proxy in user space cannot give (the kernel
acknowledges what it buffers). So the test makes a network namespace of its own, starts a cluster and
the client inside it (this file, run as a script there), and drops the server port's packets with
iptables in that namespace only: nothing outside the namespace is touched. The control case passes
`tcp_user_timeout=0` (the kernel's default) in the DSN: its call is still waiting after three timeouts.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fault_fixtures import deploy_package, own_cluster, scalar, server_of  # conftest: scripts/ on the path
from reliability_report import record_proof
from session_manager import AsyncSessionManager, ConnectionLostError, SessionManager, SessionManagerError

HERE = Path(__file__).resolve().parent
TIMEOUT = 3.0  # the managers' timeout, and so their tcp_user_timeout (3,000 ms)
CONTROL_WAIT = 3 * TIMEOUT  # the control call must still be waiting this long after the partition

needs = [shutil.which(tool) for tool in ("ip", "iptables")]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="a network namespace and iptables need root"),
    pytest.mark.skipif(None in needs, reason="needs ip (iproute2) and iptables (scripts/setup.sh installs them)"),
]


def _drop(port: int, on: bool) -> None:
    """Packets to the server's port vanish (both ways: the server's replies are answers to them)."""
    subprocess.run(["iptables", "-A" if on else "-D", "INPUT", "-p", "tcp", "--dport", str(port), "-j", "DROP"],
                   check=True)


def _probe() -> dict[str, Any]:
    """Runs inside the namespace: a cluster, the package, then the partition cases; figures as a dict."""
    out: dict[str, Any] = {}
    with own_cluster() as cluster:
        dsn = deploy_package(server_of(cluster), "chat", seed_sessions=30)  # users user-1 .. user-3

        # Sync: a call across the partition, then the first call after it heals.
        with SessionManager(dsn, timeout=TIMEOUT, min_size=2, max_size=2) as sm:
            sid = sm.get_or_create_session("user-1", "geral", "partition-sync").session_id
            _drop(cluster.port, True)
            started = time.monotonic()
            try:
                sm.touch_session(sid)
                out["sync_error"] = None
            except SessionManagerError as exc:
                out["sync_error"] = type(exc).__name__
                out["sync_is_connection_lost"] = isinstance(exc, ConnectionLostError)
            out["sync_failed_after_s"] = round(time.monotonic() - started, 2)
            _drop(cluster.port, False)
            started = time.monotonic()
            out["sync_after_heal"] = sm.touch_session(sid)
            out["sync_after_heal_s"] = round(time.monotonic() - started, 3)

        # Async: the same with asyncio.
        async def run_async() -> None:
            async with AsyncSessionManager(dsn, timeout=TIMEOUT, min_size=2, max_size=2) as am:
                asid = (await am.get_or_create_session("user-2", "geral", "partition-async")).session_id
                _drop(cluster.port, True)
                started = time.monotonic()
                try:
                    await am.touch_session(asid)
                    out["async_error"] = None
                except SessionManagerError as exc:
                    out["async_error"] = type(exc).__name__
                    out["async_is_connection_lost"] = isinstance(exc, ConnectionLostError)
                out["async_failed_after_s"] = round(time.monotonic() - started, 2)
                _drop(cluster.port, False)
                started = time.monotonic()
                out["async_after_heal"] = await am.touch_session(asid)
                out["async_after_heal_s"] = round(time.monotonic() - started, 3)
        asyncio.run(run_async())

        # Control: the kernel's default instead of the client's bound. Its call keeps waiting through
        # the partition and completes once the network is back (a retransmission gets through).
        control: dict[str, Any] = {}
        with SessionManager(dsn + "?tcp_user_timeout=0", timeout=TIMEOUT, min_size=1, max_size=1) as sm:
            sid = sm.get_or_create_session("user-3", "geral", "partition-control").session_id

            def call() -> None:
                try:
                    control["result"] = sm.touch_session(sid)
                except SessionManagerError as exc:
                    control["result"] = type(exc).__name__
                control["done_at"] = time.monotonic()

            _drop(cluster.port, True)
            started = time.monotonic()
            worker = threading.Thread(target=call, daemon=True)
            worker.start()
            worker.join(CONTROL_WAIT)
            out["control_waiting_after_s"] = round(time.monotonic() - started, 2) if worker.is_alive() else None
            _drop(cluster.port, False)
            worker.join(60)
            out["control_result"] = control.get("result")
            out["control_done_after_s"] = round(control["done_at"] - started, 2) if "done_at" in control else None

        # Nothing was lost or doubled: each session was touched by the calls that succeeded only.
        out["live_sessions"] = scalar(dsn, 'SELECT count(*) FROM public."conversationSessions" '
                                           'WHERE "chatId" = ANY(%s) AND "isActive"',
                                      (["partition-sync", "partition-async", "partition-control"],))
    return out


@pytest.fixture(scope="module")
def partition() -> dict[str, Any]:
    namespace = f"sm-partition-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", namespace], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"no network namespace here: {made.stderr.strip()}")
    try:
        subprocess.run(["ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up"], check=True)
        listed = subprocess.run(["ip", "netns", "exec", namespace, "iptables", "-S"], capture_output=True,
                                text=True, check=False)
        if listed.returncode != 0:  # a kernel without netfilter for namespaces
            pytest.skip(f"no iptables in a namespace here: {listed.stderr.strip()}")
        proc = subprocess.run(["ip", "netns", "exec", namespace, sys.executable, __file__, "--probe"],
                              capture_output=True, text=True, timeout=300, check=False)
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=False)
    assert proc.returncode == 0, f"the probe failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_call_across_a_partition_fails_within_its_timeout(partition: dict[str, Any], kind: str) -> None:
    assert partition[f"{kind}_error"] == "ConnectionLostError", partition
    assert partition[f"{kind}_is_connection_lost"]
    # Not before the bound (the kernel retransmits that long), not much after it (one attempt's worth:
    # a retry never starts past the call's timeout).
    assert TIMEOUT - 0.1 <= partition[f"{kind}_failed_after_s"] <= TIMEOUT + 1.5, partition


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_pool_serves_again_as_soon_as_the_network_does(partition: dict[str, Any], kind: str) -> None:
    assert partition[f"{kind}_after_heal"] is True, partition
    assert partition[f"{kind}_after_heal_s"] < TIMEOUT, partition


def test_without_the_bound_the_call_waits_on_through_the_partition(partition: dict[str, Any]) -> None:
    # The control proves the bound is what ends the calls above: with the kernel's default the same
    # call was still waiting after three timeouts, and it completed, late, once the network was back.
    assert partition["control_waiting_after_s"] is not None, partition
    assert partition["control_waiting_after_s"] >= CONTROL_WAIT, partition
    assert partition["control_result"] is True, partition
    assert partition["control_done_after_s"] > CONTROL_WAIT, partition


def test_the_partition_left_every_session_as_it_was(partition: dict[str, Any]) -> None:
    assert partition["live_sessions"] == 3, partition
    record_proof(
        "network_partition", part=2, title="A network partition in the middle of a call (packets dropped, socket open)",
        fault="iptables DROP of the server's port in a network namespace of the test's own, then removed",
        timeout_s=TIMEOUT,
        sync_call=f"{partition['sync_error']} after {partition['sync_failed_after_s']:.2f} s",
        async_call=f"{partition['async_error']} after {partition['async_failed_after_s']:.2f} s",
        first_call_after_heal_s=f"sync {partition['sync_after_heal_s']:.3f}, "
                                f"async {partition['async_after_heal_s']:.3f}",
        control=f"tcp_user_timeout=0: still waiting after {partition['control_waiting_after_s']:.2f} s; "
                f"completed {partition['control_done_after_s']:.2f} s after the partition began",
    )


if __name__ == "__main__" and sys.argv[1:] == ["--probe"]:
    print(json.dumps(_probe()))
