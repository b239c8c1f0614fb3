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
# valgrind: bench/touch_instructions.py counts a touch's instructions with it (Debian's package and libc6-dbg).
if ! command -v valgrind >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bench: installing valgrind"
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
    valgrind >/dev/null
fi
exec .venv/bin/python bench/run.py "$@"
