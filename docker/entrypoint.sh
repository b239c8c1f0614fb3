#!/bin/sh
# Entrypoint of the test image, the same in both builds (docker/Dockerfile on postgres:15-bookworm, and
# scripts/rootfs_image.py from Debian's packages alone): a PostgreSQL 15 cluster configured as the embedded
# one (/etc/session-manager/postgresql.conf = docker/postgresql.conf, from scripts/pgcluster.py), made
# on the first start from the official image's variables:
#   POSTGRES_USER (postgres)   the superuser initdb makes
#   POSTGRES_PASSWORD          its password; connections from other hosts need it (scram-sha-256)
#   POSTGRES_DB ($POSTGRES_USER) created besides pg_cron's database (cron.database_name)
#   PGPORT (5432)              the port to listen on; psql inside the container reads it too, so
#                              testcontainers' readiness check finds the server on a port we chose
#   POSTGRES_LISTEN_ADDRESSES (127.0.0.1)  where to listen: with host networking, loopback only
# Connections over 127.0.0.1 and ::1 are trusted: the test suite logs in as roles without passwords
# (session_manager_app's members, the non-superuser deployer).
# Arguments are passed on to postgres (a leading "postgres" is dropped): `docker run IMAGE -c work_mem=64MB`.
set -eu

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGPORT:=5432}"
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_LISTEN_ADDRESSES:=127.0.0.1}"
export PGPORT PGDATA
PG_BIN=/usr/lib/postgresql/15/bin
CONF=/etc/session-manager/postgresql.conf

if [ "$(id -u)" = 0 ]; then
    # initdb and postgres refuse to run as root.
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

create_database() {  # $1: a name; single-user mode, before the server listens
    name=$(printf '%s' "$1" | sed 's/"/""/g')
    echo "CREATE DATABASE \"$name\"" | "$PG_BIN/postgres" --single -D "$PGDATA" -j \
        -c shared_preload_libraries= -c log_min_messages=warning postgres >/dev/null
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwopt=""
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        umask 077
        printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pwfile
        pwopt="--pwfile=/tmp/pwfile"
    fi
    "$PG_BIN/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 $pwopt >/dev/null
    rm -f /tmp/pwfile
    cat > "$PGDATA/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
host    all       all   ::1/128       trust
host    all       all   all           scram-sha-256
EOF
    echo "include = '$CONF'" >> "$PGDATA/postgresql.conf"
    cron_db=$(sed -n "s/^cron\.database_name *= *'\(.*\)'.*/\1/p" "$CONF")
    for db in "$POSTGRES_DB" "$cron_db"; do
        case "$db" in
            ""|postgres|template0|template1) ;;
            *) [ "$db" = "${done_db:-}" ] || create_database "$db"; done_db=$db ;;
        esac
    done
fi

[ "${1:-}" = postgres ] && shift
exec "$PG_BIN/postgres" -D "$PGDATA" -p "$PGPORT" -c listen_addresses="$POSTGRES_LISTEN_ADDRESSES" "$@"
