#!/usr/bin/env bash
# Configures (once) and builds attain in Release mode into build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/tools/deps.sh"
# ccache keys on paths relative to the checkout, so a fresh clone elsewhere reuses it.
export CCACHE_BASEDIR="$root"
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build -j "$(nproc)"
