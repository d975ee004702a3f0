#!/bin/sh
# Installs the Debian packages the project needs, and only those missing:
# once everything is present this makes no network access at all, so
# `make run` and `make test` keep working offline.
set -eu

# debhelper, dpkg-dev and lintian build and check `make deb`'s packages,
# systemd gives systemd-analyze (the unit's check), python3-prometheus-client
# the real parser of the /metrics suite, python3-icalendar the real parser
# of the calendar suite (t/036-schedule.t).
PKGS="build-essential perl nginx nginx-dev libsqlite3-dev sqlite3 libjansson-dev \
libssl-dev patch xz-utils libtest-base-perl libwww-perl curl procps \
chromium fonts-liberation iproute2 util-linux libvpx-dev libopus-dev \
debhelper dpkg-dev lintian systemd python3-prometheus-client \
python3-icalendar \
libluajit-5.1-dev pkgconf coturn nftables \
libpq-dev postgresql"

# libluajit-5.1-dev (found by pkg-config in config): the rooms_policy
# hooks (docs/policy.md).
# libpq-dev: the store on PostgreSQL (rooms_store postgresql://...);
# postgresql: the throwaway cluster its tests start.
# nftables: tests/e2e/ice-tcp.t refuses UDP to the media worker with it.
# coturn and nftables: tests/e2e/turn.t runs its own turnserver in its
# network namespace behind a rule that drops the browsers' UDP to the media
# worker; the policy-rc.d below keeps the package's system turnserver from
# starting at the install, and it is disabled after it (below).
# libvpx-dev and libopus-dev: the load tool encodes real VP8 and Opus
# (tests/load/, `make load`).
# The browser tests drive Chromium from Node.js (tests/e2e).  A Node.js
# that is already on PATH (Debian's, or another distribution of it) will
# do; Debian's packages are installed only when there is none.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
if [ "$(id -u)" != 0 ]; then
    echo "deps: run as root (or install:$missing)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || apt-get update
# nginx's Debian package starts a system nginx on port 80 when installed;
# a policy-rc.d that says "no" (for the install only) keeps it stopped.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends $missing

# coturn's package enables its system service, which would start at the
# next boot with a configuration that asks nobody for credentials; the
# tests run their own turnserver, so the one installed here stays off
# (README "Networks" says how to run one).  One that was there before is
# left as it is.
case " $missing " in
*" coturn "*)
    # (systemctl edits the links without a running systemd, and the
    # SysV ones too)
    systemctl disable coturn.service >/dev/null 2>&1 \
        || update-rc.d coturn disable >/dev/null 2>&1 || true
    ;;
esac
