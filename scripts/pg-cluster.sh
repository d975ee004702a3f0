#!/bin/sh
# A throwaway PostgreSQL cluster for the tests (`make test-pg`, README
# "Tests"): Debian's initdb and pg_ctl in a temporary folder, listening
# on a Unix socket in that folder only (no TCP port), owned by an
# unprivileged user when run as root (postgres refuses to run as root).
#
#   pg-cluster.sh run CMD...   a new cluster in a new folder /tmp/rooms-pg-*,
#                              CMD run with ROOMS_TEST_PGHOST set to the
#                              folder (its socket), then the cluster stopped
#                              and the folder removed, also when CMD fails
#                              or is interrupted; CMD's exit status
#   pg-cluster.sh fresh CMD... (under run) CMD with ROOMS_TEST_PG, the URI
#                              of a new empty database, dropped after
#   pg-cluster.sh init DIR     a cluster in DIR (empty or missing)
#   pg-cluster.sh start DIR    starts it and waits until it answers
#   pg-cluster.sh kill DIR     SIGKILL to its postmaster and every process
#                              of it (the server dies as in a crash or an
#                              OOM kill), waits until they are gone
#   pg-cluster.sh pause DIR    SIGSTOP to its postmaster and every process
#                              of it: a server that accepts nothing and
#                              answers nothing (a hung host)
#   pg-cluster.sh resume DIR   SIGCONT to them
#   pg-cluster.sh stop DIR     a fast shutdown, waits until it is gone
#
# The cluster's one role is "rooms", a superuser, trusted over the socket
# (no password): a test cluster that nothing outside this machine's
# processes can reach.  fsync is off: nothing in it must survive a crash
# of the machine (a crash of the server keeps every commit: the WAL is in
# the page cache).
set -eu

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    echo "pg-cluster: no PostgreSQL server (Debian's postgresql: scripts/deps.sh)" >&2
    exit 1
fi

# as root: the cluster's user; otherwise the caller runs it
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
    else
        "$@"
    fi
}

init() {
    dir=$1
    mkdir -p "$dir"
    # the socket's folder: searchable by the tests and nginx's workers
    chmod 0755 "$dir"
    [ "$(id -u)" = 0 ] && chown nobody:nogroup "$dir"
    as_owner "$PGBIN/initdb" -D "$dir/data" -U rooms -A trust -E UTF8 \
        --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
}

start() {
    dir=$1
    # max_connections: each nginx worker and each unit test holds one
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' \
            -c fsync=off -c full_page_writes=off \
            -c max_connections=200" start >"$dir/pg_ctl.log" 2>&1 || {
        cat "$dir/pg_ctl.log" >&2
        tail -n 20 "$dir/server.log" >&2
        exit 1
    }
}

postmaster() {
    head -n 1 "$1/data/postmaster.pid" 2>/dev/null || true
}

kill_() {
    pid=$(postmaster "$1")
    [ -n "$pid" ] || return 0
    # the postmaster and its children at once: none left to write, and
    # the next start recovers from the WAL as after any crash (it takes
    # the stale postmaster.pid for what it is)
    pids=$(server_pids "$1")
    kill -KILL $pids 2>/dev/null || true
    i=0
    while [ $i -lt 200 ]; do
        alive=0
        for p in $pids; do
            kill -0 "$p" 2>/dev/null && alive=1
        done
        [ $alive = 0 ] && break
        sleep 0.05; i=$((i + 1))
    done
}

# the postmaster and its children
server_pids() {
    pid=$(postmaster "$1")
    [ -n "$pid" ] || return 0
    echo "$pid $(pgrep -P "$pid" | tr '\n' ' ')"
}

pause() {
    kill -STOP $(server_pids "$1") 2>/dev/null || true
}

resume() {
    kill -CONT $(server_pids "$1") 2>/dev/null || true
}

stop() {
    [ -f "$1/data/postmaster.pid" ] || return 0
    as_owner "$PGBIN/pg_ctl" -D "$1/data" -m fast -w -t 30 stop >/dev/null \
        2>&1 || kill_ "$1"
}

psql_() {
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$ROOMS_TEST_PGHOST" -U rooms \
        -d postgres "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
init|start|stop|pause|resume)
    "$cmd" "$1"
    ;;
kill)
    kill_ "$1"
    ;;
run)
    dir=$(mktemp -d /tmp/rooms-pg-XXXXXX)
    trap 'stop "$dir"; rm -rf "$dir"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    init "$dir"
    start "$dir"
    export ROOMS_TEST_PGHOST="$dir"
    status=0
    "$@" || status=$?
    exit $status
    ;;
fresh)
    : "${ROOMS_TEST_PGHOST:?pg-cluster.sh fresh runs under pg-cluster.sh run}"
    db="u_$(basename "$1" | tr -c 'a-zA-Z0-9_\n' _)_$$"
    psql_ -c "CREATE DATABASE $db" >/dev/null
    status=0
    ROOMS_TEST_PG="postgresql://rooms@/$db?host=$ROOMS_TEST_PGHOST" "$@" \
        || status=$?
    psql_ -c "DROP DATABASE $db WITH (FORCE)" >/dev/null || true
    exit $status
    ;;
*)
    echo "usage: pg-cluster.sh run|fresh CMD... |" \
         "init|start|kill|pause|resume|stop DIR" >&2
    exit 2
    ;;
esac
