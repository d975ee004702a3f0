#!/bin/sh
# make deb: the Debian packages libnginx-mod-rooms and rooms-worker.
#
# dpkg-buildpackage runs on a copy of the sources in OUT/src (it writes
# its .debs next to the source directory and its build files inside it),
# so the tree is left as it is; libsrtp2, already built by scripts/srtp.sh,
# is copied in rather than built again.  lintian then checks the result;
# each tag it still gives is explained in debian/*.lintian-overrides.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/deb}
case $out in /*) ;; *) out=$top/$out ;; esac

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src=$out/src/ngx-rooms-$version

rm -rf "$out"
mkdir -p "$src/build"
(cd "$top" && tar cf - config Makefile README.md docs debian scripts common \
                       ngx_rooms_module worker) | (cd "$src" && tar xf -)
cp -a "$top/build/deps" "$src/build/deps"
rm -rf "$src/build/deps/src" "$src/build/deps/apt"

(cd "$src" && dpkg-buildpackage -b -us -uc --no-sign) >"$out/build.log" 2>&1 || {
    tail -40 "$out/build.log" >&2
    echo "make deb: dpkg-buildpackage failed; see $out/build.log" >&2
    exit 1
}
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/

# --fail-on warning: an unexplained warning or error fails the build
lintian --fail-on error,warning --info --display-info \
    "$out"/ngx-rooms_"$version"_*.changes
ls "$out"/*.deb
