"""Runs every pgTAP file of sql_tests/ with pg_prove against a fresh clone of the template."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SQL_TESTS = sorted((ROOT / "sql_tests").glob("*.sql"))


@pytest.mark.parametrize("path", SQL_TESTS, ids=[p.stem for p in SQL_TESTS])
def test_pgtap_file_passes(db: str, path: Path) -> None:
    proc = subprocess.run(["pg_prove", "--verbose", "--failures", "-d", db, str(path)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Result: PASS" in proc.stdout, proc.stdout
