#!/usr/bin/env bash
# Builds brigade_VERSION_amd64.deb (docs/OPERATIONS.md, "Package and service"): the release
# binary, the built panels under /usr/share/brigade/web, a hardened systemd unit, a default
# /etc/brigade/brigade.toml (a conffile: an edited one survives upgrades), the docs. The
# package's dependencies are read from the binary (dpkg-shlibdeps).
#
#   scripts/package.sh [--out DIR] [--no-build]   prints the .deb's path on its last line
#   (--no-build packs the release binary and web/dist as they are: the tests, which run
#   beside that build)
#
# It does not install anything (tests/package/package.test.mjs installs and removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/package
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "package.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done

if [ "$build" = 1 ]; then
  # A fresh configure, so that the binary names the commit it is built from.
  cmake --preset release >/dev/null
  cmake --build --preset release --target brigade >/dev/null
  bash scripts/build-web.sh >/dev/null
fi

binary=build/release/src/server/brigade
version="$("$binary" --version | sed -E 's/^brigade ([^ ]+) \(git ([^)]+)\)$/\1+git\2/')"
[ -n "$version" ] || { echo "package.sh: no version from $binary --version" >&2; exit 1; }
arch="$(dpkg --print-architecture)"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/brigade"
install -D -m 0755 "$binary" "$root/usr/bin/brigade"
strip --strip-unneeded "$root/usr/bin/brigade"
mkdir -p "$root/usr/share/brigade"
cp -r web/dist "$root/usr/share/brigade/web"
rm -f "$root/usr/share/brigade/web/.build-stamp" "$root/usr/share/brigade/web/examples/tutorial/.build-stamp"
install -D -m 0644 deploy/debian/brigade.service "$root/lib/systemd/system/brigade.service"
install -D -m 0644 deploy/debian/brigade.toml "$root/etc/brigade/brigade.toml"
for doc in README.md docs/OPERATIONS.md docs/API.md; do
  install -D -m 0644 "$doc" "$root/usr/share/doc/brigade/$(basename "$doc")"
done
install -D -m 0644 deploy/prometheus-alerts.yml "$root/usr/share/doc/brigade/examples/prometheus-alerts.yml"
install -D -m 0644 deploy/haproxy.cfg "$root/usr/share/doc/brigade/examples/haproxy.cfg"
install -D -m 0644 deploy/nginx.conf "$root/usr/share/doc/brigade/examples/nginx.conf"

# Dependencies from the binary's libraries (dpkg-shlibdeps wants a debian/control beside it).
mkdir -p "$stage/debian"
printf 'Source: brigade\n\nPackage: brigade\nArchitecture: any\n' > "$stage/debian/control"
depends="$(cd "$stage" && dpkg-shlibdeps -O -e brigade/usr/bin/brigade 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<CONTROL
Package: brigade
Version: $version
Architecture: $arch
Maintainer: Brigade maintainers <maintainers@brigade.invalid>
Depends: $depends
Section: web
Priority: optional
Homepage: https://brigade.invalid/
Description: real-time restaurant management server
 One server for a restaurant's live order board, customer ordering and
 tracking, and riders: a JSON API, a Socket.IO v5 real-time channel and
 three web panels, on SQLite (or several nodes on one PostgreSQL).
CONTROL
echo /etc/brigade/brigade.toml > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  echo "brigade: start it with: systemctl enable --now brigade (settings: /etc/brigade/brigade.toml)"
fi
POSTINST
cat > "$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl disable --now brigade >/dev/null 2>&1 || true
fi
PRERM
cat > "$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/brigade_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
