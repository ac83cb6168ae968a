#!/usr/bin/env bash
# Fails when a C++ file of the project is not formatted with .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cpp' '*.hpp')
[ -z "$files" ] && exit 0
clang-format --dry-run --Werror $files
echo "clang-format: $(echo "$files" | wc -l) files formatted"
