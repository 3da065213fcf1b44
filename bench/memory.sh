#!/usr/bin/env bash
# Peak memory (max resident set) of `attain run` as the number of runs grows, per --store
# level. Usage: bench/memory.sh [MODEL] [SCENARIO...]; environment: RUNS (default
# "100000 1000000 10000000"), STORES (default "summary targets full"), THREADS (default:
# every core). Prints store, runs, seconds, peak KiB and file size per line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/models/teaching_firms.yaml}
shift || true
args=()
for s in "$@"; do args+=(--scenario "$s"); done
[[ -n ${THREADS:-} ]] && args+=(--threads "$THREADS")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%8s %10s %10s %12s %14s\n' store runs seconds peak_KiB file_bytes
for store in ${STORES:-summary targets full}; do
  for runs in ${RUNS:-100000 1000000 10000000}; do
    /usr/bin/time -f '%e %M' -o "$out/time" "$root/build/attain" run "$model" "${args[@]}" \
      --runs "$runs" --store "$store" --out "$out/r.h5" --quiet >/dev/null
    read -r secs kib <"$out/time"
    printf '%8s %10s %10s %12s %14s\n' "$store" "$runs" "$secs" "$kib" "$(stat -c %s "$out/r.h5")"
    rm -f "$out/r.h5"
  done
done
