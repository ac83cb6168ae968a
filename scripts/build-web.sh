#!/usr/bin/env bash
# Builds the three web panels (web/ -> web/dist), only when something changed:
# `npm ci` when web/node_modules is missing or older than the lock file, and
# `npm run build` when a source is newer than the last build. Then the example client
# (examples/tutorial-client -> web/dist/examples/tutorial, served with --examples) the
# same way: the panels' build empties web/dist, so it follows every panels' build.
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
if [ "${1:-}" = "--force" ] || [ ! -f "$stamp" ] ||
  [ -n "$(find src index.html admin rider public pwa scripts package.json package-lock.json vite.config.ts tsconfig.json \
    -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  npm run --silent build >/dev/null
  node scripts/precompress.mjs dist  # F.gz and F.br beside F: served with Content-Encoding
  touch "$stamp"
  echo "build-web: web/dist built"
fi

cd ../examples/tutorial-client
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
example_stamp=../../web/dist/examples/tutorial/.build-stamp
if [ "${1:-}" = "--force" ] || [ ! -f "$example_stamp" ] ||
  [ -n "$(find src index.html package.json package-lock.json vite.config.js \
    -newer "$example_stamp" -print -quit 2>/dev/null)" ]; then
  npm run --silent build >/dev/null
  node ../../web/scripts/precompress.mjs ../../web/dist/examples/tutorial
  touch "$example_stamp"
  echo "build-web: web/dist/examples/tutorial built"
fi
