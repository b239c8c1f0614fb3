#!/usr/bin/env bash
# The benchmarks: bash bench/run.sh [--quick]   (full run < 30 min on 2 cores, --quick < 3 min)
# Installs what is missing (scripts/setup.sh, then bench/requirements.txt into .venv), starts a
# throwaway cluster, runs every section and writes bench/results/ (results.json, report.md, *.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
stamp=.venv/.bench-installed
if [ ! -f "$stamp" ] || [ bench/requirements.txt -nt "$stamp" ]; then
  echo "bench: installing bench/requirements.txt into .venv"
  .venv/bin/pip install -q -r bench/requirements.txt
  touch "$stamp"
fi
exec .venv/bin/python bench/run.py "$@"
