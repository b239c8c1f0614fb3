"""The application's side in TypeScript (examples/drizzle/): its module over the package's functions, through
Drizzle and node-postgres, type-checked by tsc and run by node's test runner against a fresh database with the
package deployed and the application's tables (cloned from the deployed template). scripts/setup.sh installs
its npm packages (package-lock.json)."""
from __future__ import annotations

import os
import shutil
import subprocess

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "drizzle"


def test_the_drizzle_module_passes_its_node_tests_against_the_deployed_package(db: str) -> None:
    node = shutil.which("node")
    assert node is not None, "node is missing: bash scripts/setup.sh installs it"
    assert (EXAMPLE / "node_modules" / "drizzle-orm").is_dir(), "npm packages missing: bash scripts/setup.sh"
    typecheck = subprocess.run([str(EXAMPLE / "node_modules" / ".bin" / "tsc"), "--noEmit"], cwd=EXAMPLE,
                               capture_output=True, text=True, check=False)
    assert typecheck.returncode == 0, typecheck.stdout + typecheck.stderr
    proc = subprocess.run([node, "--import", "tsx", "--test", "--test-reporter=tap", "test/session-manager.test.ts"],
                          cwd=EXAMPLE, env={**os.environ, "DATABASE_URL": db}, capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "\n# fail 0\n" in proc.stdout and "\n# pass 8\n" in proc.stdout, proc.stdout[-2000:]  # every test ran
