#!/bin/bash
# Measures what a locked store costs the requests that need no store
# write: another process holds the SQLite write lock (BEGIN EXCLUSIVE,
# held open) while clients create rooms in a loop, and GET / and a cached
# room read are timed.  Prints figures; it never passes or fails on time.
#   scripts/store-lock.sh [PORT]   (ROOMS_MODULE= another build of the .so)
set -eu

port=${1:-19951}
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/rooms-lock-XXXXXX)
chmod 0777 "$dir"
user=""
[ "$(id -u)" = 0 ] && user="user nobody nogroup;"

cat > "$dir/nginx.conf" <<CONF
load_module ${ROOMS_MODULE:-$top/build/ngx_rooms_module.so};
$user
worker_processes 2;
error_log $dir/error.log info;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir;
    rooms_zone   rooms:1m;
    rooms_store  $dir/rooms.db;
    server {
        listen 127.0.0.1:$port;
        location / { rooms; }
    }
}
CONF

nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
locker=""
writers=""
trap 'kill $(cat $dir/nginx.pid) $locker $writers 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
sleep 0.5

base=http://127.0.0.1:$port
code=$(curl -s -X POST $base/api/rooms | sed 's/^{"code":"\([^"]*\)".*/\1/')
curl -s -o /dev/null $base/api/rooms/$code      # cached now

# t URL: the slowest of 20 requests, and their median, in ms
t() {
    for i in $(seq 20); do
        curl -s -o /dev/null -w '%{time_total}\n' "$1"
        sleep 0.05
    done | sort -n | awk '{a[NR]=$1*1000} END {printf "median %.1f ms, max %.1f ms", a[int((NR+1)/2)], a[NR]}'
}

phase() {
    echo "  GET /:            $(t $base/)"
    echo "  GET cached room:  $(t $base/api/rooms/$code)"
}

start_writers() {
    for w in 1 2 3 4; do
        ( while :; do curl -s -o /dev/null -m 10 -X POST $base/api/rooms; done ) &
        writers="$writers $!"
    done
}

echo "no lock, 4 clients creating rooms:"
start_writers; sleep 0.5; phase; kill $writers 2>/dev/null; wait $writers 2>/dev/null || true; writers=""

# the lock: a write transaction another process keeps open until killed
mkfifo "$dir/lock.sql"
sqlite3 "$dir/rooms.db" < "$dir/lock.sql" &
locker=$!
exec 3>"$dir/lock.sql"
echo ".timeout 10000
BEGIN EXCLUSIVE; INSERT INTO retired_codes VALUES ('lock', 0, 0);" >&3
sleep 0.5

echo "store locked by another process, nobody writing:"
phase
echo "store locked by another process, 4 clients creating rooms:"
start_writers; sleep 0.5; phase
echo "  a create while locked: $(curl -s -m 10 -o /dev/null -w '%{http_code} in %{time_total} s' -X POST $base/api/rooms)"
echo "  its answer: $(curl -s -m 10 -D - -X POST $base/api/rooms | tr -d '\r' | grep -E '^(HTTP|Retry-After)|error' | tr '\n' ' ')"
kill $writers 2>/dev/null; wait $writers 2>/dev/null || true; writers=""
exec 3>&-
wait $locker 2>/dev/null || true
locker=""
echo "lock released: a create: $(curl -s -m 10 -o /dev/null -w '%{http_code} in %{time_total} s' -X POST $base/api/rooms)"
