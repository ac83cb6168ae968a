#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png: builds brigade and the panels, then
# photographs each panel in Debian's chromium (admin 1440x900, customer and
# rider 360x740) against a fresh server on 127.0.0.1. `--lang ko`: the panels in
# Korean, into docs/screenshots/ko/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target brigade
bash scripts/build-web.sh
exec node tests/browser/screenshots.mjs "$@" # [out-dir] [--lang ko]
