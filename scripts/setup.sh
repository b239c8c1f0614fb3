#!/usr/bin/env bash
# Installs what the demo, the tests and the benchmarks need on Debian 12 / Ubuntu, idempotently:
# PostgreSQL 15 with pg_cron, pgTAP, sqitch, pg_prove, then a virtual environment (.venv) with
# the Python client and the test tools. Quiet when everything is already there.
# `setup.sh --testcontainers` (scripts/testcontainers.sh) installs what that phase needs: mmdebstrap for the
# test image and, where no dockerd is installed and no engine answers, Debian's docker.io.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
installed=""
install_missing() {  # apt packages, those not yet installed (sets $installed); apt is shared: wait for its lock
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
  installed="${missing[*]}"
}

if [ "${1:-}" = --testcontainers ]; then
  tc_packages=(mmdebstrap)  # the test image's root filesystem, from Debian's packages (scripts/rootfs_image.py)
  if ! command -v dockerd >/dev/null && ! docker version >/dev/null 2>&1; then
    tc_packages+=(docker.io)  # its dockerd, started by scripts/testcontainers.sh (a client alone is not enough)
  fi
  install_missing "${tc_packages[@]}"
  if [[ " $installed " == *" docker.io "* ]]; then
    # docker.io's own service stays down: the phase starts a dockerd of its own, on paths of its own.
    $SUDO service docker stop >/dev/null 2>&1 || true
  fi
  exit 0
fi

APT_PACKAGES=(postgresql-15 postgresql-client-15 postgresql-15-cron postgresql-15-pgtap sqitch
              libdbd-pg-perl libtap-parser-sourcehandler-pgtap-perl pgbouncer
              prometheus prometheus-postgres-exporter
              iptables iproute2  # tests/test_faults_partition.py: a partition in a namespace of its own
              chromium)  # headless, for the status page test: 25 packages, 124 MB download, 414 MB on disk
install_missing "${APT_PACKAGES[@]}"
if [ -n "$installed" ]; then
  # The Debian postgresql packages would create and start a cluster of their own: we use only the binaries.
  for svc in postgresql prometheus prometheus-postgres-exporter pgbouncer; do
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# Citus 13.2 for PostgreSQL 15 (the Citus tests and `demo.sh --citus`): ../shared/citus/install.sh
# where it exists (a build of the official Citus 13.2.2, for the development machines and CI);
# elsewhere Citus's own package postgresql-15-citus-13.2, which scripts/pgcluster.py asks for when
# the extension is missing. That build links against PostgreSQL 15.20's server (citus.so needs
# heap_datum_check, which 15.18 lacks): an older 15.x is brought up to the archive's minor release.
CITUS_INSTALL=../shared/citus/install.sh
if [ -f "$CITUS_INSTALL" ]; then
  if ! grep -q heap_datum_check /usr/lib/postgresql/15/bin/postgres; then
    echo "setup: upgrading postgresql-15 to the archive's minor release (Citus's build needs 15.20 or later)"
    $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
      --only-upgrade postgresql-15 postgresql-client-15 >/dev/null
    $SUDO service postgresql stop >/dev/null 2>&1 || true
  fi
  $SUDO sh "$CITUS_INSTALL"  # idempotent: compares citus.so's checksum first (17 ms when installed)
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ python_client/pyproject.toml -nt "$stamp" ] || [ requirements-dev.txt -nt "$stamp" ]; then
  echo "setup: installing the Python client and test tools into .venv"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e "python_client[metrics]" -r requirements-dev.txt
  touch "$stamp"
fi

# The TypeScript example (examples/drizzle: Drizzle, node-postgres, tsx, tsc) from its package-lock.json.
# Node 18.19 or later: the machine's own if it has one, else Debian's nodejs.
command -v npm >/dev/null 2>&1 || install_missing nodejs npm
lock_sum=$(sha256sum examples/drizzle/package-lock.json | cut -d' ' -f1)
if [ "$(cat examples/drizzle/node_modules/.setup-installed 2>/dev/null)" != "$lock_sum" ]; then
  echo "setup: installing the TypeScript example's npm packages (examples/drizzle)"
  (cd examples/drizzle && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_sum" > examples/drizzle/node_modules/.setup-installed
fi
