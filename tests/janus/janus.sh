#!/bin/sh
# Janus VideoRoom, the reference the benchmarks compare ngx_rooms with
# (issue 10): installs Debian's janus if it is missing, writes a fair
# configuration into a temporary folder, and starts Janus inside a network
# namespace of its own, then runs a command in that namespace and cleans
# everything up when the command ends (or at once on a signal).
#
#   tests/janus/janus.sh [options] [-- COMMAND ARGS...]
#
#     --ns NAME          the namespace's name (default rooms-janus-<pid>)
#     --http-port N      Janus's HTTP API port (default 8088, path /janus)
#     --ws-port N        Janus's WebSocket API port (default 8188)
#     --dir DIR          where the configuration and janus.log go (default
#                        a new folder under /tmp, removed at the end unless
#                        --keep)
#     --keep             keep the folder (the log) at the end
#
# Without a COMMAND it prints the addresses and waits for a signal.
# The COMMAND runs as root inside the namespace with:
#
#   JANUS_HTTP   http://127.0.0.1:<http-port>/janus   (the HTTP API)
#   JANUS_WS     ws://127.0.0.1:<ws-port>              (subprotocol janus-protocol)
#   JANUS_IP     10.99.0.1   the address Janus gathers ICE candidates on
#   CLIENT_IP    10.99.0.2   the other end of the veth pair, for clients
#   JANUS_NS     the namespace's name
#   JANUS_DIR    the folder with the configuration and janus.log
#
# and the script exits with the command's status.
#
# The namespace.  Janus (libnice) never gathers candidates on loopback,
# so it needs a real interface: the namespace gets `lo` and a veth pair
# whose two ends both stay inside it (jveth0 10.99.0.1/24 for Janus,
# jveth1 10.99.0.2/24 for clients), so nothing of the host's network is
# touched and deleting the namespace removes everything.  Traffic between
# the two addresses is local to the namespace, as loopback is for
# ngx_rooms in the browser tests; a server under test in the same
# namespace can announce 10.99.0.1 too, so both go the same path.
#
# Janus's settings, chosen to be fair (the same work ngx_rooms does):
#   - the VideoRoom plugin only (every other plugin disabled), the HTTP and
#     WebSocket transports only (MQTT, nanomsg, RabbitMQ and Unix sockets
#     disabled), no event handlers, no external loggers, no admin API;
#   - logging at Janus's default level (debug_level 4), to janus.log in the
#     folder, no colours;
#   - ICE: Janus's defaults (full ICE, aggressive nomination where libnice
#     has it, trickle), candidates on jveth0 only (ice_enforce_list), no
#     STUN or TURN server, no ICE-TCP, mDNS candidates dropped (there is no
#     mDNS in the namespace; Chromium offers them otherwise); the SDP's
#     address is jveth0's (interface);
#   - DTLS and media: Janus's defaults (its own self-signed certificate made
#     at start-up, the default DTLS MTU and retransmission timer, NACK
#     buffer and transport-wide congestion control as it ships);
#   - rooms: none static; a client creates its room with the VideoRoom
#     `create` request, and the fair one is
#         { "request": "create", "room": <id>, "publishers": <N>,
#           "videocodec": "vp8", "audiocodec": "opus", "record": false,
#           "bitrate": 0, "fir_freq": 0 }
#     (VP8 and Opus, as ngx_rooms negotiates; no recording; no bitrate cap
#     and no periodic keyframe request: a keyframe is asked for when a
#     subscriber comes, as ngx_rooms does).
set -eu

NS="rooms-janus-$$"
HTTP_PORT=8088
WS_PORT=8188
DIR=""
KEEP=0
JANUS_IP=10.99.0.1
CLIENT_IP=10.99.0.2

while [ $# -gt 0 ]; do
    case "$1" in
        --ns) NS="$2"; shift 2 ;;
        --http-port) HTTP_PORT="$2"; shift 2 ;;
        --ws-port) WS_PORT="$2"; shift 2 ;;
        --dir) DIR="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --) shift; break ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next }
                        NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "janus.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" != 0 ]; then
    echo "janus.sh: run as root (network namespaces need it)" >&2
    exit 1
fi

# ---- the packages: only those missing, as scripts/deps.sh does -----------
# janus: the server; libjs-janus-gateway and libjs-webrtc-adapter: janus.js
# and the adapter it needs, for the browser bench's page
# (tests/e2e/join-time.mjs); iproute2 and curl: the namespace, readiness.
missing=""
for p in janus libjs-janus-gateway libjs-webrtc-adapter iproute2 curl; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "janus.sh: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || apt-get update
    # janus's package would start its system service when installed: a
    # policy-rc.d that says "no" (for the install only) keeps it stopped
    rcd=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        rcd=1
    fi
    apt-get install -y -q --no-install-recommends $missing || {
        [ $rcd = 1 ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
    [ $rcd = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

LIBDIR=$(dirname "$(dpkg -L janus | grep '/janus/plugins/libjanus_videoroom.so$')")
LIBDIR=$(dirname "$LIBDIR")

# ---- the configuration ----------------------------------------------------
made_dir=0
if [ -z "$DIR" ]; then
    DIR=$(mktemp -d /tmp/rooms-janus-XXXXXX)
    made_dir=1
fi
mkdir -p "$DIR"

# every plugin and transport that ships but the ones used
others() {
    d="$1"; shift
    ls "$LIBDIR/$d" | grep '\.so$' | grep -v "$@" | paste -sd, -
}

cat > "$DIR/janus.jcfg" <<EOF
# written by tests/janus/janus.sh (the settings are explained there)
general: {
    configs_folder = "$DIR"
    plugins_folder = "$LIBDIR/plugins"
    transports_folder = "$LIBDIR/transports"
    events_folder = "$LIBDIR/events"
    loggers_folder = "$LIBDIR/loggers"
    log_to_stdout = false
    log_to_file = "$DIR/janus.log"
    debug_level = 4
    debug_colors = false
    server_name = "rooms-bench"
    interface = "$JANUS_IP"
}
certificates: {
}
media: {
}
nat: {
    nice_debug = false
    ice_enforce_list = "jveth0"
    ignore_mdns = true
}
plugins: {
    disable = "$(others plugins -e libjanus_videoroom.so)"
}
transports: {
    disable = "$(others transports -e libjanus_http.so -e libjanus_websockets.so)"
}
events: {
    broadcast = false
}
loggers: {
    disable = "$(others loggers -e NONE)"
}
EOF

cat > "$DIR/janus.plugin.videoroom.jcfg" <<EOF
# no static room: clients create theirs (see tests/janus/janus.sh)
general: {
}
EOF

cat > "$DIR/janus.transport.http.jcfg" <<EOF
general: {
    json = "plain"
    base_path = "/janus"
    http = true
    port = $HTTP_PORT
    https = false
}
admin: {
    admin_http = false
    admin_https = false
}
EOF

cat > "$DIR/janus.transport.websockets.jcfg" <<EOF
general: {
    json = "plain"
    ws = true
    ws_port = $WS_PORT
    wss = false
}
admin: {
    admin_ws = false
    admin_wss = false
}
EOF

# ---- the namespace, and cleaning up -------------------------------------
JPID=""
cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$JPID" ] && kill -0 "$JPID" 2>/dev/null; then
        kill -TERM "$JPID" 2>/dev/null || true
        i=0
        while kill -0 "$JPID" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
        kill -KILL "$JPID" 2>/dev/null || true
    fi
    # whatever else still runs in the namespace (the command's children)
    for p in $(ip netns pids "$NS" 2>/dev/null); do
        kill -KILL "$p" 2>/dev/null || true
    done
    ip netns del "$NS" 2>/dev/null || true
    if [ $made_dir = 1 ] && [ $KEEP = 0 ]; then
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add jveth0 type veth peer name jveth1
ip -n "$NS" addr add "$JANUS_IP/24" dev jveth0
ip -n "$NS" addr add "$CLIENT_IP/24" dev jveth1
ip -n "$NS" link set jveth0 up
ip -n "$NS" link set jveth1 up

ip netns exec "$NS" /usr/bin/janus -C "$DIR/janus.jcfg" -F "$DIR" \
    > "$DIR/janus.out" 2>&1 &
JPID=$!

# ready once the HTTP API answers (the WebSocket transport starts before it)
i=0
until ip netns exec "$NS" curl -sf -o /dev/null \
        "http://127.0.0.1:$HTTP_PORT/janus/info"; do
    i=$((i + 1))
    if ! kill -0 "$JPID" 2>/dev/null || [ $i -gt 100 ]; then
        echo "janus.sh: Janus did not start; its log:" >&2
        tail -30 "$DIR/janus.log" "$DIR/janus.out" >&2 2>/dev/null || true
        exit 1
    fi
    sleep 0.1
done

export JANUS_HTTP="http://127.0.0.1:$HTTP_PORT/janus"
export JANUS_WS="ws://127.0.0.1:$WS_PORT"
export JANUS_IP CLIENT_IP JANUS_DIR="$DIR" JANUS_NS="$NS"

if [ $# -eq 0 ]; then
    echo "janus.sh: Janus $(janus --version 2>/dev/null | head -1) in namespace $NS"
    echo "JANUS_HTTP=$JANUS_HTTP JANUS_WS=$JANUS_WS JANUS_IP=$JANUS_IP" \
         "CLIENT_IP=$CLIENT_IP JANUS_DIR=$DIR"
    echo "janus.sh: run clients with: ip netns exec $NS COMMAND (Ctrl-C stops)"
    while kill -0 "$JPID" 2>/dev/null; do sleep 1; done
    echo "janus.sh: Janus exited" >&2
    exit 1
fi

status=0
ip netns exec "$NS" "$@" || status=$?
exit $status
