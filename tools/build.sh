#!/usr/bin/env bash
# Configures (once) and builds attain in Release mode into build/, showing cmake's progress
# (its percentage and each file compiled; "Built target" lines of an up-to-date build left
# out). README.md says how long a first build takes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/tools/deps.sh"
# ccache keys on paths relative to the checkout, so a fresh clone elsewhere reuses it.
export CCACHE_BASEDIR="$root"
if [ ! -f build/CMakeCache.txt ]; then
  echo "attain: configuring build/ (Release) and building it; a first build takes a while," \
    "see README.md"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build -j "$(nproc)" |
  { grep --line-buffered -v -e '\] Built target ' -e '^Built target ' || true; }
