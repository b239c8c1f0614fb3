#!/usr/bin/env bash
# Every test, in two phases:
# 1. main: lint (ruff, mypy --strict, squawk on the deploy scripts), then pytest, which starts one
#    throwaway PostgreSQL cluster (or uses SESSION_MANAGER_TEST_DSN), runs the pgTAP files with
#    pg_prove and the Python tests against it, and removes it at the end;
# 2. testcontainers (scripts/testcontainers.sh): the pgTAP files, the client's lifecycle, concurrency
#    and session tests and the scheduling tests again, against PostgreSQL in containers that
#    testcontainers starts from the test image (docker/).
#   bash scripts/test.sh                          both phases (CI: .ci/run); fails if either fails
#   bash scripts/test.sh tests/test_x.py [...]    the main phase only, with these pytest arguments
#   bash scripts/test.sh --main [pytest args]     the main phase only
#   bash scripts/test.sh --testcontainers [args]  the testcontainers phase only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate

phases="main testcontainers"
case "${1:-}" in
    --main) phases=main; shift ;;
    --testcontainers) phases=testcontainers; shift ;;
    *) [ $# -eq 0 ] || phases=main ;;
esac

# Each phase runs as a waited-for child, so an interruption reaches it as SIGTERM and it cleans up
# (the embedded cluster, the containers, our dockerd); bash would run a trap only after a foreground child.
# Such a child ignores SIGINT (bash without job control), so Ctrl-C reaches it through this trap too.
child=""
interrupted=""
trap 'interrupted=1; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true' INT TERM HUP
run() {
    "$@" &
    child=$!
    while kill -0 "$child" 2>/dev/null; do wait "$child" 2>/dev/null || true; done
    local r=0
    wait "$child" 2>/dev/null || r=$?
    child=""
    if [ -n "$interrupted" ]; then echo "test.sh: interrupted" >&2; exit 130; fi
    return "$r"
}

rc=0
if [[ " $phases " == *" main "* ]]; then
    echo "== ruff"; ruff check python_client tests scripts bench
    echo "== mypy --strict"; mypy --strict python_client/src
    echo "== squawk"
    # squawk cannot parse psql's variables (:'name'), which only the shared blocks use (lock_with_retries,
    # citus_mode, ... between "-- >>> name" and "-- <<< name"): it lints each deploy script without them, as
    # it did when they were files the scripts included (never linted).
    lint=$(mktemp -d)
    for f in $(find deploy -name "*.sql" | sort); do
        mkdir -p "$lint/$(dirname "$f")"
        sed '/^-- >>> [a-z_]*/,/^-- <<< [a-z_]*$/d' "$f" > "$lint/$f"
    done
    (cd "$lint" && squawk --config "$OLDPWD/.squawk.toml" $(find deploy -name "*.sql" | sort)); rm -rf "$lint"
    echo "== pytest"
    run pytest "$@" || rc=$?
fi
if [[ " $phases " == *" testcontainers "* ]]; then
    echo "== testcontainers"
    [ "$phases" = testcontainers ] || set --
    run bash scripts/testcontainers.sh "$@" || { tc=$?; [ "$rc" -ne 0 ] || rc=$tc; }
fi
exit "$rc"
