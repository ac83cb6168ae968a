#!/usr/bin/env bash
# Installs everything Brigade needs to build, run and test on a fresh Debian 12.
# Fast when everything is already present: apt is only called for what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# prometheus: its promtool checks and unit-tests deploy/prometheus-alerts.yml (tests only).
# fonts-nanum: Hangul glyphs for Chromium, so the Korean panels are measured (320 px
# fits) and photographed (docs/screenshots) as a Korean phone shows them.
APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  clang clang-format clang-tidy libclang-rt-14-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libspdlog-dev libcli11-dev libtomlplusplus-dev prometheus-cpp-dev libsodium-dev zlib1g-dev libbrotli-dev libhowardhinnant-date-dev tzdata libsqlite3-dev sqlite3 libpq-dev postgresql-15 haproxy
  libgtest-dev libgmock-dev libbenchmark-dev prometheus
  nodejs chromium fonts-nanum
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs from some origins ships npm itself; Debian splits it out.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "install-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Only promtool is wanted from the prometheus package: not a server left running.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

# npm packages used by tests and the client bundle, pinned by package-lock.json.
if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi

# The web panels' own npm package (Vite, React, socket.io-client, Leaflet, playwright-core).
if [ -f web/package-lock.json ]; then
  if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
