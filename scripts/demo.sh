#!/usr/bin/env bash
# The main job on the embedded default: installs what it needs, starts a throwaway PostgreSQL,
# deploys the package, simulates chat traffic, lets pg_cron clean up, and reports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
