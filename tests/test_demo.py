"""The main job (bash scripts/demo.sh) end to end, shortened: its own throwaway cluster, the deploy, chat
traffic through the Python client, the cleanup by pg_cron's own run, and the report."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_demo_deploys_chats_through_the_client_and_pg_cron_cleans_up() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--seconds", "3", "--workers", "2"],
                          capture_output=True, text=True, timeout=280, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Verify successful" in out
    assert "4971 active sessions idle past the timeout" in out  # the seeded backlog, before pg_cron's run
    traffic = next(line for line in out.splitlines() if " calls in 3 s " in line)
    assert traffic.rstrip().endswith(", 0 errors") and "messages stored" in traffic, traffic
    assert "run succeeded" in out and "idle backlog now 0" in out, out
    assert "Cluster stopped and removed." in out
