#!/usr/bin/env bash
# Start the servers the integration suite runs against: PostgreSQL and Redis (`make
# test-integration`), or MariaDB and Redis (`make test-integration-mariadb`).
#
#   scripts/services.sh [start] [SERVICE…]  install what is missing (Debian packages), start them, wait, print the URLs
#   scripts/services.sh stop [SERVICE…]     stop them
#   scripts/services.sh build-deps          install the Debian packages the mysqlclient driver builds against
#
# SERVICE is postgresql, redis or mariadb; without any, postgresql and redis.
# Idempotent: a server that already runs is reused. All listen on 127.0.0.1 only.
# Ports: those of INTEGRATION_DB_PORT (default 5432), INTEGRATION_REDIS_URL (default
# redis://127.0.0.1:6390/0) and INTEGRATION_MYSQL_PORT (default 3307), the variables
# tests/settings_integration.py and tests/settings_mariadb.py read. Without a PostgreSQL cluster
# on that port, one is created: 'main' on a machine that has none, 'portNNNN' beside others.
#
# MariaDB runs as a throwaway server of our own, not the distribution's: its files live in
# INTEGRATION_MYSQL_DIR (default $TMPDIR/user_tasks-mariadb-PORT), its root account is the
# caller's (Unix socket authentication on the socket in that directory).
set -euo pipefail

PG_PORT=${INTEGRATION_DB_PORT:-5432}
REDIS_URL=${INTEGRATION_REDIS_URL:-redis://127.0.0.1:6390/0}
REDIS_PORT=${REDIS_URL##*:}
REDIS_PORT=${REDIS_PORT%%/*}
[[ $REDIS_PORT =~ ^[0-9]+$ ]] || { echo "services.sh: no port in INTEGRATION_REDIS_URL=$REDIS_URL" >&2; exit 1; }
MYSQL_PORT=${INTEGRATION_MYSQL_PORT:-3307}
[[ $MYSQL_PORT =~ ^[0-9]+$ ]] || { echo "services.sh: INTEGRATION_MYSQL_PORT=$MYSQL_PORT is no port" >&2; exit 1; }
MYSQL_DIR=${INTEGRATION_MYSQL_DIR:-${TMPDIR:-/tmp}/user_tasks-mariadb-$MYSQL_PORT}
MYSQL_SOCKET=$MYSQL_DIR/mariadbd.sock
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

# The Debian packages missing for the services "$@".
missing_packages() {
    local service
    for service in "$@"; do
        case $service in
        postgresql)
            command -v pg_ctlcluster >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null ||
                echo postgresql
            ;;
        redis) command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || echo redis-server ;;
        mariadb)
            # The server, its client (mariadb, mariadb-admin, mariadb-dump) comes with it.
            command -v mariadbd >/dev/null 2>&1 && command -v mariadb-install-db >/dev/null 2>&1 &&
                command -v mariadb >/dev/null 2>&1 || echo mariadb-server
            ;;
        build-deps)
            # What pip needs to build mysqlclient (no Linux wheels): a compiler and the client library.
            command -v cc >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || echo build-essential
            command -v pkg-config >/dev/null 2>&1 || echo pkg-config
            pkg-config --exists mysqlclient 2>/dev/null || echo default-libmysqlclient-dev
            ;;
        esac
    done
}

install_missing() {
    local packages=()
    mapfile -t packages < <(missing_packages "$@" | sort -u)
    ((${#packages[@]})) || return 0
    log "installing Debian packages: ${packages[*]}"
    # The packages' scripts would start their servers with the distribution's configuration
    # (Redis on 6379, PostgreSQL before we restrict it to loopback, MariaDB on 3306): a
    # policy-rc.d forbids that for the time of the installation; we start ours ourselves below.
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
        # The first cluster of a machine is Debian's usual 'main'; one beside others (someone
        # else's on another port) is named after its port, and the others are left alone.
        name=main
        if [[ -n $(pg_lsclusters --no-header) ]]; then
            name=port$PG_PORT
        fi
        version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -1)
        if [[ -d /etc/postgresql/$version/$name ]]; then
            pg_lsclusters >&2
            die "PostgreSQL $version/$name exists but does not listen on port $PG_PORT (set INTEGRATION_DB_PORT to its port)"
        fi
        log "creating the PostgreSQL $version cluster '$name' on port $PG_PORT"
        "${SUDO[@]}" pg_createcluster "$version" "$name" --port "$PG_PORT" --locale C.UTF-8
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

# The admin client on our server's socket, as the account mariadb-install-db made for the caller.
mariadb_admin() { mariadb --no-defaults --protocol=socket --socket="$MYSQL_SOCKET" -u "$(id -un)" -N -B "$@"; }

mariadb_answers() {
    [[ -S $MYSQL_SOCKET ]] && mariadb-admin --no-defaults --protocol=socket --socket="$MYSQL_SOCKET" \
        -u "$(id -un)" ping >/dev/null 2>&1
}

start_mariadb() {
    local data=$MYSQL_DIR/data log=$MYSQL_DIR/mariadbd.log
    if ! mariadb_answers; then
        if (echo >"/dev/tcp/$HOST/$MYSQL_PORT") 2>/dev/null; then
            die "something else listens on $HOST:$MYSQL_PORT (set INTEGRATION_MYSQL_PORT to a free port)"
        fi
        mkdir -p "$MYSQL_DIR"
        if [[ ! -d $data/mysql ]]; then
            log "creating a MariaDB data directory in $data"
            rm -rf "$data"
            mariadb-install-db --no-defaults --datadir="$data" --user="$(id -un)" \
                --auth-root-authentication-method=socket --skip-test-db >"$MYSQL_DIR/install-db.log" 2>&1 ||
                die "mariadb-install-db failed: see $MYSQL_DIR/install-db.log"
        fi
        log "starting mariadbd on $HOST:$MYSQL_PORT (data in $data, log in $log)"
        # A throwaway server: no binary log, no durability on each commit (the test database is
        # recreated every run), and UTF-8 (utf8mb4) as a Debian-packaged server has it.
        setsid mariadbd --no-defaults --datadir="$data" --user="$(id -un)" --port="$MYSQL_PORT" \
            --bind-address="$HOST" --socket="$MYSQL_SOCKET" --pid-file="$MYSQL_DIR/mariadbd.pid" \
            --log-error="$log" --skip-log-bin --skip-name-resolve \
            --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
            --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 </dev/null >/dev/null 2>&1 &
        wait_until 60 mariadb_answers || die "MariaDB does not start: see $log"
    fi

    local account="'$DB'@'$HOST'"
    # The suite's database, and the right to create and drop the test databases (test_…) and
    # the demo's or a second run's (user_tasks…).
    mariadb_admin -e "
        CREATE DATABASE IF NOT EXISTS $DB CHARACTER SET utf8mb4;
        CREATE USER IF NOT EXISTS $account IDENTIFIED BY '$DB';
        GRANT ALL PRIVILEGES ON \`user\\_tasks%\`.* TO $account;
        GRANT ALL PRIVILEGES ON \`test\\_%\`.* TO $account;" ||
        die "cannot create the MariaDB database and account $DB"
    # Password authentication over TCP, as the suite connects.
    mariadb --no-defaults --protocol=tcp -h "$HOST" -P "$MYSQL_PORT" -u "$DB" -p"$DB" -N -B -e 'SELECT 1' "$DB" \
        >/dev/null || die "cannot log in as $DB to mysql://$HOST:$MYSQL_PORT/$DB"
}

stop_redis() {
    if command -v redis-cli >/dev/null 2>&1 && redis_answers; then
        log "stopping redis-server on $HOST:$REDIS_PORT"
        redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    fi
}

stop_postgresql() {
    if command -v pg_lsclusters >/dev/null 2>&1; then
        local version name status
        read -r version name status <<<"$(pg_cluster)"
        if [[ ${status:-} == online ]]; then
            log "stopping PostgreSQL $version/$name"
            "${SUDO[@]}" pg_ctlcluster "$version" "$name" stop
        fi
    fi
}

stop_mariadb() {
    if command -v mariadb-admin >/dev/null 2>&1 && mariadb_answers; then
        log "stopping mariadbd on $HOST:$MYSQL_PORT (its files stay in $MYSQL_DIR)"
        mariadb-admin --no-defaults --protocol=socket --socket="$MYSQL_SOCKET" -u "$(id -un)" shutdown
    fi
}

action=start
case ${1:-} in
start | stop | build-deps)
    action=$1
    shift
    ;;
esac
services=("$@")
((${#services[@]})) || services=(postgresql redis)
for service in "${services[@]}"; do
    case $service in
    postgresql | redis | mariadb) ;;
    *) die "usage: $0 [start|stop] [postgresql|redis|mariadb]…  or  $0 build-deps" ;;
    esac
done

case $action in
start)
    install_missing "${services[@]}"
    for service in "${services[@]}"; do
        "start_$service"
        case $service in
        postgresql) echo "PostgreSQL: postgres://$DB:$DB@$HOST:$PG_PORT/$DB" ;;
        redis) echo "Redis:      redis://$HOST:$REDIS_PORT/0 (broker), redis://$HOST:$REDIS_PORT/1 (results)" ;;
        mariadb) echo "MariaDB:    mysql://$DB:$DB@$HOST:$MYSQL_PORT/$DB" ;;
        esac
    done
    ;;
stop)
    for service in "${services[@]}"; do
        "stop_$service"
    done
    ;;
build-deps) install_missing build-deps ;;
esac
