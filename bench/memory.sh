#!/usr/bin/env bash
# Peak memory (max resident set) of `attain run --store summary` as the number of runs grows.
# Usage: bench/memory.sh [MODEL] [SCENARIO...]; prints runs, seconds and peak KiB per line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/models/teaching_firms.yaml}
shift || true
args=()
for s in "$@"; do args+=(--scenario "$s"); done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%10s %10s %12s\n' runs seconds peak_KiB
for runs in 100000 1000000 10000000; do
  /usr/bin/time -f '%e %M' -o "$out/time" "$root/build/attain" run "$model" "${args[@]}" \
    --runs "$runs" --store summary --out "$out/r.h5" --quiet >/dev/null
  read -r secs kib <"$out/time"
  printf '%10s %10s %12s\n' "$runs" "$secs" "$kib"
done
