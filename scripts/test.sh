#!/usr/bin/env bash
# Every test: lint (ruff, mypy --strict, squawk on the deploy scripts), then pytest, which starts
# one throwaway PostgreSQL cluster (or uses SESSION_MANAGER_TEST_DSN), runs the pgTAP files with
# pg_prove and the Python tests against it, and removes it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate

echo "== ruff"; ruff check python_client tests scripts bench
echo "== mypy --strict"; mypy --strict python_client/src
echo "== squawk"; squawk --config .squawk.toml $(find deploy -name "*.sql" | sort)
echo "== pytest"
exec pytest "$@"
