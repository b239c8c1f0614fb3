#!/usr/bin/env bash
# The testcontainers phase of the test command (`bash scripts/test.sh --testcontainers [pytest args]`):
# pytest against PostgreSQL in containers that testcontainers starts (tests/conftest.py, with
# SESSION_MANAGER_TESTCONTAINERS=1), from the test image of docker/.
#
# The engine: DOCKER_HOST's, else /var/run/docker.sock's, when it answers. Else (as root) a dockerd of
# our own: docker.io from Debian (scripts/setup.sh --testcontainers), no bridge and no iptables (so
# containers use the host's network: nothing is published anywhere but 127.0.0.1), its own data-root,
# exec-root, pidfile and socket, so it collides with no other engine; stopped at the end, also when the
# run is interrupted. Its data-root is kept: the image built in it is the cache the next run reuses.
# The image: SESSION_MANAGER_TEST_IMAGE, else scripts/rootfs_image.py's (Debian's packages alone, no
# registry), tagged by a hash of its inputs, built once per engine.
# Ryuk (testcontainers' reaper) is an image from a registry, so it is off: the containers carry this
# run's label and are removed here, also after an interrupted run.
#
# When no engine can run here: outside CI, a loud warning and the phase is skipped (exit 0), so a
# laptop without Docker keeps the main phase; in CI (CI=true) or with SESSION_MANAGER_TESTCONTAINERS_REQUIRED=1
# the phase fails, since CI must prove this path.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=/run/pg-session-manager                 # our dockerd's exec-root, pidfile, socket, log, lock
DATA_ROOT=/var/lib/pg-session-manager/docker  # our dockerd's images and containers: kept between runs
RUN="tc-$(date +%s)-$$"
LABEL="pg-session-manager.tests"
DEFAULT_TESTS=(tests/test_pgtap.py tests/test_client_lifecycle.py tests/test_client_concurrency.py
               tests/test_client_sessions.py tests/test_scheduling.py)
own_dockerd=""
child=""
t0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "testcontainers: $*"; }

cannot_run() {  # $1: why no engine can run here
    if [ "${CI:-}" = true ] || [ "${SESSION_MANAGER_TESTCONTAINERS_REQUIRED:-}" = 1 ]; then
        say "FAILED: $1 (CI must run the testcontainers phase)" >&2
        exit 1
    fi
    say "SKIPPED, no Docker engine: $1" >&2
    say "(the main phase ran against the embedded cluster; in CI this phase fails instead)" >&2
    exit 0
}

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

remove_containers() {  # $1: a label filter
    local ids
    ids=$(docker ps -aq --filter "label=$1" 2>/dev/null || true)
    if [ -n "$ids" ]; then
        # shellcheck disable=SC2086
        docker rm -f $ids >/dev/null 2>&1 || true
        say "removed container(s) ${ids//$'\n'/ }"
    fi
}

unmount_exec_root() {  # a stopped dockerd leaves the host network's nsfs mount under its exec-root
    local m
    for m in $(awk -v root="$STATE/docker" '$5 == root || index($5, root "/") == 1 { print $5 }' \
                   /proc/self/mountinfo | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
}

stop_own_dockerd() {
    local pid
    pid=$(cat "$STATE/docker.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$STATE/docker.pid" "$STATE/docker.sock"
    unmount_exec_root
}

run() {  # a command in the background, waited for: bash runs a trap only once its foreground child ends
    "$@" &
    child=$!
    local rc=0
    wait "$child" || rc=$?
    child=""
    return "$rc"
}

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true  # pytest then tears down: its container goes first
        wait "$child" 2>/dev/null || true
    fi
    if [ -n "${DOCKER_HOST:-}" ]; then remove_containers "$LABEL=$RUN"; fi
    if [ -n "$own_dockerd" ]; then
        stop_own_dockerd
        say "stopped our dockerd"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# -- the engine ---------------------------------------------------------------------------------
if [ -n "${DOCKER_HOST:-}" ]; then
    engine_answers || cannot_run "DOCKER_HOST=$DOCKER_HOST does not answer"
    say "using the engine at DOCKER_HOST=$DOCKER_HOST"
elif DOCKER_HOST=unix:///var/run/docker.sock engine_answers; then
    export DOCKER_HOST=unix:///var/run/docker.sock
    say "using the engine at $DOCKER_HOST"
else
    [ "$(id -u)" -eq 0 ] || cannot_run "none answers at /var/run/docker.sock, and starting our own dockerd needs root"
    bash scripts/setup.sh --testcontainers
    command -v dockerd >/dev/null || cannot_run "dockerd is not installed (apt-get install docker.io)"
    mkdir -p "$STATE" "$DATA_ROOT"
    # One run at a time owns our dockerd (its data-root cannot be shared by two daemons).
    exec 9>"$STATE/lock"
    if ! flock -n 9; then
        say "another test run uses our dockerd: waiting for it (up to 30 min)"
        flock -w 1800 9 || cannot_run "our dockerd stayed busy for 30 min"
    fi
    export DOCKER_HOST="unix://$STATE/docker.sock"
    stop_own_dockerd  # a dockerd of a run that was killed, or the mounts it left
    started=$(date +%s.%N)
    own_dockerd=1
    # setsid: Ctrl-C reaches this script, which removes the containers first and then stops dockerd.
    setsid dockerd --data-root "$DATA_ROOT" --exec-root "$STATE/docker" --pidfile "$STATE/docker.pid" \
        --host "$DOCKER_HOST" --bridge=none --iptables=false --ip6tables=false --log-level=warn \
        >"$STATE/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 150); do engine_answers && break; sleep 0.2; done
    if ! engine_answers; then
        tail -20 "$STATE/dockerd.log" >&2 || true
        cannot_run "our dockerd did not answer within 30 s (log above, $STATE/dockerd.log)"
    fi
    say "started our dockerd ($(docker version --format '{{.Server.Version}}'), $DOCKER_HOST) in $(since "$started") s"
    remove_containers "$LABEL"  # left by a run that was killed outright; this engine is ours alone
fi

# -- the image ----------------------------------------------------------------------------------
started=$(date +%s.%N)
if [ -z "${SESSION_MANAGER_TEST_IMAGE:-}" ]; then
    bash scripts/setup.sh --testcontainers  # mmdebstrap
    tag_file=$(mktemp)
    run python3 scripts/rootfs_image.py >"$tag_file" || { rm -f "$tag_file"; exit 1; }
    SESSION_MANAGER_TEST_IMAGE=$(cat "$tag_file")
    rm -f "$tag_file"
fi
export SESSION_MANAGER_TEST_IMAGE
say "image $SESSION_MANAGER_TEST_IMAGE ready in $(since "$started") s"

# -- the tests ----------------------------------------------------------------------------------
[ $# -gt 0 ] || set -- "${DEFAULT_TESTS[@]}"
started=$(date +%s.%N)
rc=0
run env SESSION_MANAGER_TESTCONTAINERS=1 SESSION_MANAGER_TEST_RUN="$RUN" TESTCONTAINERS_RYUK_DISABLED=true \
    SESSION_MANAGER_TEST_DSN="" pytest "$@" || rc=$?
say "pytest took $(since "$started") s; the whole phase $(since "$t0") s"
exit "$rc"
