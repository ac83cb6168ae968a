#!/usr/bin/env bash
# Builds the three web panels (web/ -> web/dist), only when something changed:
# `npm ci` when web/node_modules is missing or older than the lock file, and
# `npm run build` when a source is newer than the last build.
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v npm >/dev/null 2>&1; then
  echo "build-web: npm not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

stamp=dist/.build-stamp
if [ "${1:-}" != "--force" ] && [ -f "$stamp" ] &&
  [ -z "$(find src index.html admin rider public package.json package-lock.json vite.config.ts tsconfig.json \
    -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  exit 0
fi
npm run --silent build >/dev/null
touch "$stamp"
echo "build-web: web/dist built"
