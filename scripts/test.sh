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
echo "== squawk"
# squawk cannot parse psql's variables (:'name'), which only the lock_with_retries blocks use: it lints each
# deploy script without them, as it did when the block was a file the scripts included (never linted).
lint=$(mktemp -d)
for f in $(find deploy -name "*.sql" | sort); do
  mkdir -p "$lint/$(dirname "$f")"
  sed '/^-- >>> lock_with_retries/,/^-- <<< lock_with_retries$/d' "$f" > "$lint/$f"
done
(cd "$lint" && squawk --config "$OLDPWD/.squawk.toml" $(find deploy -name "*.sql" | sort)); rm -rf "$lint"
echo "== pytest"
exec pytest "$@"
