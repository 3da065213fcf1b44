#!/usr/bin/env bash
# Runs the benchmarks whose figures docs/performance.md records, after `tools/test` (or
# tools/build.sh) has built them, and the numpy peer of the Guandu model. Nothing here runs
# in the tests: timings on a shared machine belong in a record with their date and load.
# Usage: bench/run.sh [RESULTS_DIR]   (default results/bench-<date>; one file per benchmark)
# Environment: PEER_RUNS (runs per scenario for the peer, default 1000000; 0 skips it);
# PEER_SOBOL_ROWS (rows of `attain sensitivity` and its numpy peer, default 16384; 0 skips).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/results/bench-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
b=$root/build/bench
for exe in bench_limits bench_draws bench_engine bench_study bench_sensitivity; do
  [[ -x $b/$exe ]] || { echo "bench/run.sh: $b/$exe is missing; run tools/test first" >&2; exit 2; }
done
note() { echo "== $* (load: $(cut -d' ' -f1-3 /proc/loadavg))"; }
run() {  # name, command...
  local name=$1
  shift
  note "$name"
  "$@" --benchmark_out="$out/$name.json" --benchmark_out_format=json | tee "$out/$name.txt"
}
run limits "$b/bench_limits" --benchmark_min_time=0.3
run draws "$b/bench_draws" --benchmark_min_time=0.2
run program "$b/bench_engine" --benchmark_filter=ProgramRandomGraph --benchmark_min_time=0.3
run end_to_end "$b/bench_engine" --benchmark_filter='EndToEnd|ThreadScaling'
run interactive "$b/bench_study" --benchmark_filter=Interactive
run study "$b/bench_study" --benchmark_filter='Compare|Search|Reducer' --benchmark_min_time=0.5
run sensitivity "$b/bench_sensitivity"  # fixed iterations: about a minute
note memory
"$root/bench/memory.sh" | tee "$out/memory.txt"
if [[ ${PEER_RUNS:-1000000} != 0 ]]; then
  if ! /usr/bin/python3 -c 'import numpy, scipy, yaml' 2>/dev/null; then
    if [[ $(id -u) == 0 ]]; then
      apt-get install -y python3-numpy python3-scipy python3-yaml >/dev/null
    else
      echo "bench/run.sh: the peer needs python3-scipy and python3-yaml (apt-get install)" >&2
      exit 2
    fi
  fi
  note "numpy peer"
  (cd "$root" && /usr/bin/python3 bench/peers/run_guandu.py --runs "${PEER_RUNS:-1000000}" \
    --save "$out/peer.json") | tee "$out/peer.txt"
fi
if [[ ${PEER_SOBOL_ROWS:-16384} != 0 ]]; then
  rows=${PEER_SOBOL_ROWS:-16384}
  for t in 2 1; do
    note "attain sensitivity --rows $rows --threads $t"
    { TIMEFORMAT='wall %R s, user %U s, sys %S s'
      time "$root/build/attain" sensitivity "$root/models/guandu_innovation.yaml" \
        --scenario "$root/scenarios/guandu/plan.yaml" --rows "$rows" --threads "$t" --json \
        --quiet >"$out/sensitivity_attain_t$t.json"; } 2>&1 | tee "$out/sensitivity_attain_t$t.txt"
  done
  note "numpy sensitivity peer --rows $rows"
  (cd "$root" && /usr/bin/python3 bench/peers/guandu_sobol_numpy.py --rows "$rows" \
    --attain "$out/sensitivity_attain_t2.json" scenarios/guandu/plan.yaml) \
    | tee "$out/sensitivity_peer.json"
fi
echo "results in $out"
