#!/usr/bin/env bash
# What monitoring costs touch_session (issue 7), in the setups
#   without  package at @v0.3.0 (no monitoring objects), track_functions = none, pg_stat_statements.track = none
#   objects  package with the monitoring changes, collection still off
#   collect  package with the monitoring changes, track_functions = all, pg_stat_statements.track = all
#            (the embedded cluster's settings: what the monitoring reads)
#   scraped  as collect, while a scraper reads health_check(), session_stats, storage_stats,
#            function_stats and statement_stats() once a second (a new psql each time), as an
#            exporter would, only more often (Prometheus scrapes every 15 s by default)
# 1. throughput: pgbench touches (bench/monitoring_touch.sql) of LIVE live sessions, the setups
#    alternated ROUNDS times in rotating order; tps per setup and, per round, relative to without.
# 2. server CPU per touch: one backend runs TOUCHES touches (simple protocol, as pgbench), its CPU
#    time read from /proc before and after: unlike throughput, hardly moved by other load on the
#    machine. And the server CPU of one scrape.
# Needs a superuser on a local cluster with pg_stat_statements preloaded (PGHOST/PGPORT/PGUSER), run
# as a user who may read the server's /proc/PID/stat (root or the server's user), e.g.
#   eval "$(python3 scripts/pgcluster.py start /tmp/bench-pg)"; bash bench/monitoring_cost.sh
# Usage: bench/monitoring_cost.sh [ROUNDS=5] [SECONDS=20] [CLIENTS=2] [LIVE=10000] [TOUCHES=40000]
# (SECONDS=0 skips the pgbench part.)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5} SECS=${2:-20} CLIENTS=${3:-2} LIVE=${4:-10000} TOUCHES=${5:-40000}
OFF="-c track_functions=none -c pg_stat_statements.track=none"
ON="-c track_functions=all -c pg_stat_statements.track=all"
export SQITCH_FULLNAME=bench SQITCH_EMAIL=bench@localhost
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT

setup() {  # setup DB SQITCH-TARGET-CHANGE
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" 2>/dev/null
  psql -X -q -d "$1" -f scripts/app_schema.sql
  sqitch --quiet deploy --set schedule=off --to "$2" "db:pg://$PGUSER@$PGHOST:$PGPORT/$1" >/dev/null
  psql -X -q -d "$1" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
    -c "INSERT INTO public.\"user\" (id, email) VALUES ('mt-user', 'mt@example.com')" \
    -c "INSERT INTO public.\"conversationSessions\" (id, \"userId\", agent) SELECT 'mt-' || i, 'mt-user', 'geral' FROM generate_series(1, $LIVE) AS i" \
    -c "VACUUM ANALYZE"
}
setup mc_without @v0.3.0
setup mc_with monitoring_grants
db_of() { [ "$1" = without ] && echo mc_without || echo mc_with; }
opts_of() { case "$1" in without|objects) echo "$OFF" ;; *) echo "$ON" ;; esac; }

SCRAPE="SELECT * FROM session_manager.health_check(); SELECT * FROM session_manager.session_stats;
SELECT * FROM session_manager.storage_stats; SELECT * FROM session_manager.function_stats;
SELECT * FROM session_manager.statement_stats();"
scrape() { while sleep 1; do psql -X -q -d mc_with -o /dev/null -c "$SCRAPE"; done; }

pgbench_tps() {  # pgbench_tps SETUP -> tps
  local pid="" tps
  [ "$1" = scraped ] && { scrape & pid=$!; }
  tps=$(PGOPTIONS="$(opts_of "$1")" pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" -D live="$LIVE" \
        -f bench/monitoring_touch.sql "$(db_of "$1")" | awk '/^tps/ {print $3; exit}')
  [ -n "$pid" ] && { kill "$pid"; wait "$pid" 2>/dev/null || true; }
  echo "$tps"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "# $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## 1. pgbench: $CLIENTS clients, ${SECS}s per run, $LIVE live sessions, $ROUNDS rounds"
SETUPS=(without objects collect scraped)
[ "$SECS" -gt 0 ] && for r in $(seq 0 $((ROUNDS - 1))); do
  for i in 0 1 2 3; do
    s=${SETUPS[$(((i + r) % 4))]}
    echo "$r $s $(pgbench_tps "$s")"
  done
done > "$WORK/tps"
[ "$SECS" -gt 0 ] && sort -k1,1n -k2 "$WORK/tps" | awk '{printf "round %s %-8s %8.0f tps\n", $1, $2, $3}'
[ "$SECS" -gt 0 ] && for s in "${SETUPS[@]}"; do
  tps=$(awk -v s="$s" '$2 == s {print $3}' "$WORK/tps" | median)
  ratio=$(awk -v s="$s" '$2 == "without" {w[$1]=$3} $2 == s {x[$1]=$3} END {for (r in x) print x[r] / w[r]}' "$WORK/tps" | median)
  printf "%-8s median %6.0f tps; median of per-round ratios to without: %.3f\n" "$s" "$tps" "$ratio"
done

echo "## 2. server CPU: $TOUCHES touches in one backend, $ROUNDS rounds; one scrape"
awk -v n="$TOUCHES" -v live="$LIVE" 'BEGIN {srand(7); for (i = 0; i < n; i++) printf "SELECT session_manager.touch_session(%c%s%d%c);\n", 39, "mt-", 1 + int(rand() * live), 39}' > "$WORK/touches.sql"
cpu_us() {  # cpu_us DB PGOPTIONS FILE -> server CPU microseconds spent on FILE
  PGOPTIONS="$2" psql -X -q -d "$1" -o /dev/null -v file="$3" <<'SQL' | awk '{print ($2 - $1) * 10000}'
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND :pid
\! awk '{printf "%d ", $14 + $15}' /proc/$BACKEND/stat
\i :file
\! awk '{print $14 + $15}' /proc/$BACKEND/stat
SQL
}
for r in $(seq 1 "$ROUNDS"); do
  for s in without objects collect; do
    echo "$s $(cpu_us "$(db_of "$s")" "$(opts_of "$s")" "$WORK/touches.sql")"
  done
done > "$WORK/cpu"
for s in without objects collect; do
  us=$(awk -v s="$s" '$1 == s {print $2}' "$WORK/cpu" | median)
  printf "%-8s median %.1f us of server CPU per touch\n" "$s" "$(echo "$us $TOUCHES" | awk '{print $1 / $2}')"
done
for i in $(seq 1 20); do echo "$SCRAPE"; done > "$WORK/scrapes.sql"
us=$(for r in $(seq 1 "$ROUNDS"); do cpu_us mc_with "$ON" "$WORK/scrapes.sql"; done | median)
printf "scrape   median %.1f ms of server CPU per scrape (20 per round)\n" "$(echo "$us" | awk '{print $1 / 20 / 1000}')"
