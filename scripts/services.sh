#!/usr/bin/env bash
# Start the PostgreSQL and Redis servers the integration suite runs against (`make test-integration`).
#
#   scripts/services.sh          install what is missing (Debian packages), start both, wait, print the URLs
#   scripts/services.sh stop     stop the Redis server on our port and the PostgreSQL cluster
#
# Idempotent: a server that already runs is reused. Both listen on 127.0.0.1 only.
# Ports: those of INTEGRATION_DB_PORT (default 5432) and INTEGRATION_REDIS_URL (default
# redis://127.0.0.1:6390/0), the variables tests/settings_integration.py reads.
set -euo pipefail

PG_PORT=${INTEGRATION_DB_PORT:-5432}
REDIS_URL=${INTEGRATION_REDIS_URL:-redis://127.0.0.1:6390/0}
REDIS_PORT=${REDIS_URL##*:}
REDIS_PORT=${REDIS_PORT%%/*}
[[ $REDIS_PORT =~ ^[0-9]+$ ]] || { echo "services.sh: no port in INTEGRATION_REDIS_URL=$REDIS_URL" >&2; exit 1; }
HOST=127.0.0.1
# Role, password and database of the suite (tests/settings_integration.py has the same defaults).
DB=user_tasks
# PostgreSQL reads this file from the cluster's conf.d/, after postgresql.conf.
LOOPBACK_CONF=user_tasks-loopback.conf

SUDO=()
if [[ $(id -u) != 0 ]]; then
    SUDO=(sudo)
fi

log() { printf 'services.sh: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 1
}

as_postgres() {
    # From /, which the postgres user can read whatever our working directory is.
    if [[ $(id -u) == 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -u postgres -- "$@")
    fi
}

psql_admin() { as_postgres psql --no-psqlrc -X -q -At -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"; }

redis_answers() { redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

# Wait until "$@" succeeds, for at most $1 seconds.
wait_until() {
    local seconds=$1
    shift
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

install_missing() {
    local packages=()
    command -v pg_ctlcluster >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null ||
        packages+=(postgresql)
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || packages+=(redis-server)
    ((${#packages[@]})) || return 0
    log "installing Debian packages: ${packages[*]}"
    # The packages' scripts would start their servers with the distribution's configuration
    # (Redis on 6379, PostgreSQL before we restrict it to loopback): a policy-rc.d forbids
    # that for the time of the installation; we start both ourselves below.
    local policy=/usr/sbin/policy-rc.d ours=
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
        "${SUDO[@]}" chmod 755 "$policy"
        ours=1
        trap '"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    "${SUDO[@]}" apt-get update
    # The cluster the postgresql package creates takes its encoding from the locale: UTF-8.
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 \
        apt-get install -y --no-install-recommends "${packages[@]}"
    if [[ $ours ]]; then
        "${SUDO[@]}" rm -f "$policy"
        trap - EXIT
    fi
}

# "VERSION NAME STATUS" of the cluster on $PG_PORT; empty when there is none.
pg_cluster() {
    pg_lsclusters --no-header | awk -v port="$PG_PORT" '$3 == port { print $1, $2, $4; exit }'
}

# True when listen_addresses ($1) includes 127.0.0.1 and nothing beyond loopback.
loopback_only() {
    local address addresses ours=
    IFS=', ' read -r -a addresses <<<"$1"
    for address in "${addresses[@]}"; do
        case $address in
        localhost | 127.0.0.1) ours=1 ;;
        '' | ::1) ;;
        *) return 1 ;;
        esac
    done
    [[ $ours ]]
}

start_postgresql() {
    local version name status
    if [[ -z $(pg_cluster) ]]; then
        if [[ -n $(pg_lsclusters --no-header) ]]; then
            pg_lsclusters >&2
            die "no PostgreSQL cluster listens on port $PG_PORT (set INTEGRATION_DB_PORT to one of the above)"
        fi
        version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -1)
        log "creating the PostgreSQL $version cluster 'main' on port $PG_PORT"
        "${SUDO[@]}" pg_createcluster "$version" main --port "$PG_PORT" --locale C.UTF-8
    fi
    read -r version name status <<<"$(pg_cluster)"

    local conf=/etc/postgresql/$version/$name/conf.d/$LOOPBACK_CONF
    if [[ ! -f $conf ]]; then
        log "PostgreSQL $version/$name: listen_addresses = '$HOST' ($conf)"
        printf "# Written by user_tasks' scripts/services.sh: the integration suite's traffic stays on loopback.\nlisten_addresses = '%s'\n" \
            "$HOST" | "${SUDO[@]}" tee "$conf" >/dev/null
    fi

    if [[ $status != online ]]; then
        log "starting PostgreSQL $version/$name"
        "${SUDO[@]}" pg_ctlcluster "$version" "$name" start
    fi
    # Its Unix socket first: listen_addresses may not be ours yet.
    wait_until 30 pg_isready -q -p "$PG_PORT" || die "PostgreSQL $version/$name does not start (see pg_lsclusters)"

    # A cluster that was already running keeps its listen_addresses until it restarts:
    # restart it only when it listens beyond loopback, or not on $HOST (others may be using it).
    local listening
    listening=$(psql_admin -c 'SHOW listen_addresses')
    if ! loopback_only "$listening"; then
        log "PostgreSQL listens on '$listening': restarting it to listen on $HOST only"
        "${SUDO[@]}" pg_ctlcluster "$version" "$name" restart
        wait_until 30 pg_isready -q -p "$PG_PORT" || die "PostgreSQL $version/$name did not restart"
        listening=$(psql_admin -c 'SHOW listen_addresses')
        loopback_only "$listening" ||
            die "PostgreSQL still listens on '$listening': a setting after conf.d/ (postgresql.conf's end, postgresql.auto.conf) overrides $conf"
    fi
    wait_until 30 pg_isready -q -h "$HOST" -p "$PG_PORT" || die "PostgreSQL does not accept connections on $HOST:$PG_PORT"

    if [[ -z $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB'") ]]; then
        log "creating the role $DB"
        psql_admin -c "CREATE ROLE $DB LOGIN CREATEDB PASSWORD '$DB'"
    fi
    if [[ -z $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'") ]]; then
        log "creating the database $DB"
        psql_admin -c "CREATE DATABASE $DB OWNER $DB"
    fi
    # Password authentication over TCP, as the suite connects.
    wait_until 10 env PGPASSWORD="$DB" psql --no-psqlrc -X -q -At -h "$HOST" -p "$PG_PORT" -U "$DB" -d "$DB" \
        -c 'SELECT 1' >/dev/null || die "cannot log in as $DB to postgres://$HOST:$PG_PORT/$DB"
}

start_redis() {
    if redis_answers; then
        return 0
    fi
    log "starting redis-server on $HOST:$REDIS_PORT"
    redis-server --daemonize yes --bind "$HOST" --port "$REDIS_PORT" --save '' --appendonly no \
        --logfile "${TMPDIR:-/tmp}/user_tasks-redis-$REDIS_PORT.log"
    wait_until 30 redis_answers || die "Redis does not answer PING on $HOST:$REDIS_PORT"
}

stop() {
    if command -v redis-cli >/dev/null 2>&1 && redis_answers; then
        log "stopping redis-server on $HOST:$REDIS_PORT"
        redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    fi
    if command -v pg_lsclusters >/dev/null 2>&1; then
        local version name status
        read -r version name status <<<"$(pg_cluster)"
        if [[ ${status:-} == online ]]; then
            log "stopping PostgreSQL $version/$name"
            "${SUDO[@]}" pg_ctlcluster "$version" "$name" stop
        fi
    fi
}

case ${1:-start} in
start)
    install_missing
    start_postgresql
    start_redis
    echo "PostgreSQL: postgres://$DB:$DB@$HOST:$PG_PORT/$DB"
    echo "Redis:      redis://$HOST:$REDIS_PORT/0 (broker), redis://$HOST:$REDIS_PORT/1 (results)"
    ;;
stop) stop ;;
*) die "usage: $0 [start|stop]" ;;
esac
