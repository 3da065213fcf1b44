#!/usr/bin/env python3
"""Run attain and its numpy peer on the Guandu model side by side.

    bench/peers/run_guandu.py [--runs 1000000] [--seed 1] [--attain build/attain]

1. times `attain run models/guandu_innovation.yaml --scenario ... (5 scenarios) --runs RUNS
   --json --quiet` with --threads 2 and with --threads 1;
2. times the numpy peer (bench/peers/guandu_numpy.py) as one process over the 5 scenarios,
   and as two processes in parallel, each doing half of every scenario's runs with its own
   seed (their hits are added);
3. checks that the probabilities agree within sampling error: for every scenario, target and
   the joint probability, z = (p_a - p_n) / sqrt(p_a (1 - p_a) / n_a + p_n (1 - p_n) / n_n)
   (skipped where both are 0 or both are 1); exits 1 if any |z| > 5, and reports any |z| > 4
   as suspicious (75 comparisons);
4. prints the wall-time ratios numpy / attain (with --repeat N, of the least of N rounds).

Wall times are of whole processes (perf_counter around each subprocess: start-up, reading the
model, imports included); beside each are the CPU seconds (user + system) of the processes,
the load average just after, and the peer's own compute time (excluding import and setup).
On a shared machine, a wall time well above CPU / (threads or processes) means it waited
for a core: measure again (--repeat keeps the least). Needs build/attain (tools/test builds it) and /usr/bin/python3 with numpy, scipy
and PyYAML. The machine's load average (/proc/loadavg) is printed before and after.
"""

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = "models/guandu_innovation.yaml"
SCENARIOS = [f"scenarios/guandu/{s}.yaml"
             for s in ("baseline", "plan", "austerity", "boost", "talent_first")]
PEER = "bench/peers/guandu_numpy.py"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def idle_share(seconds):
    """Share of all CPUs' time idle over the next `seconds` (from /proc/stat)."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return sum(v), v[3] + v[4]
    t0, i0 = read()
    time.sleep(seconds)
    t1, i1 = read()
    return (i1 - i0) / max(1, t1 - t0)


def wait_idle(limit):
    """Before a measurement: wait (up to `limit` s) until the CPUs are 90 % idle over 5 s."""
    if limit <= 0:
        return
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if idle_share(5) >= 0.9:
            return
    print(f"  (the machine stayed busy for {limit} s; measuring anyway)")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed_parallel(cmds):
    """(wall seconds until the last finishes, CPU seconds of all, [parsed JSON stdout]) of
    processes started together."""
    cpu0 = children_cpu()
    start = time.perf_counter()
    procs = [subprocess.Popen(c, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for c in cmds]
    outs = [p.communicate() for p in procs]
    wall = time.perf_counter() - start
    cpu = children_cpu() - cpu0
    for c, p, (out, err) in zip(cmds, procs, outs):
        if p.returncode != 0:
            sys.exit(f"run_guandu: error: {' '.join(c)} exited {p.returncode}:\n{err}")
    return wall, cpu, [json.loads(out) for out, _ in outs]


def timed(cmd):
    """(wall seconds, CPU seconds, parsed JSON stdout) of one process."""
    wall, cpu, (doc,) = timed_parallel([cmd])
    return wall, cpu, doc


def hits_table(doc):
    """{scenario: {target or 'joint': (hits, runs)}} from attain's or the peer's JSON."""
    table = {}
    for s in doc["scenarios"]:
        row = {t["name"]: (t["hits"], s["runs"]) for t in s["targets"]}
        row["joint"] = (s["joint"]["hits"], s["runs"])
        table[s["name"]] = row
    return table


def combine(tables):
    out = {}
    for t in tables:
        for s, row in t.items():
            dst = out.setdefault(s, {})
            for k, (h, n) in row.items():
                h0, n0 = dst.get(k, (0, 0))
                dst[k] = (h0 + h, n0 + n)
    return out


def compare(a, b):
    """[(scenario, target, p_a, p_b, z)] over every scenario and target, z None if skipped."""
    rows = []
    for s, row in a.items():
        for k, (ha, na) in row.items():
            hb, nb = b[s][k]
            pa, pb = ha / na, hb / nb
            var = pa * (1 - pa) / na + pb * (1 - pb) / nb
            z = None if var == 0 else (pa - pb) / math.sqrt(var)
            rows.append((s, k, pa, pb, z))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1_000_000, help="runs per scenario (default 10^6)")
    ap.add_argument("--seed", type=int, default=1, help="seed for attain and the peer (default 1)")
    ap.add_argument("--attain", default="build/attain", help="attain binary (default build/attain)")
    ap.add_argument("--python", default="/usr/bin/python3", help="python with numpy and scipy")
    ap.add_argument("--repeat", type=int, default=1,
                    help="measure everything this many times, keep the least (default 1)")
    ap.add_argument("--wait-idle", type=int, default=0, metavar="SECONDS",
                    help="before each measurement wait up to this long for the CPUs to be 90 %% "
                         "idle over 5 s (a shared machine; default 0: do not wait)")
    ap.add_argument("--save", metavar="FILE", help="also write every result and time as JSON")
    args = ap.parse_args()

    attain = os.path.join(ROOT, args.attain) if not os.path.isabs(args.attain) else args.attain
    if not os.access(attain, os.X_OK):
        sys.exit(f"run_guandu: error: no attain binary at {attain} (build it with tools/test, "
                 "or give --attain)")
    check = subprocess.run([args.python, "-c", "import numpy, scipy.special, scipy.stats, yaml"],
                           stderr=subprocess.PIPE, text=True)
    if check.returncode != 0:
        sys.exit(f"run_guandu: error: {args.python} lacks numpy, scipy or PyYAML "
                 f"(Debian: apt-get install -y python3-numpy python3-scipy python3-yaml):\n"
                 f"{check.stderr}")
    # The peer's hand-written model must still match the model file.
    subprocess.run([args.python, PEER, "--verify-model", MODEL, "--runs", "1", SCENARIOS[1]],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    runs = args.runs
    scen = [a for s in SCENARIOS for a in ("--scenario", s)]
    attain_cmd = [attain, "run", MODEL, *scen, "--runs", str(runs), "--seed", str(args.seed),
                  "--json", "--quiet"]
    peer_cmd = [args.python, PEER, *SCENARIOS, "--json"]
    half = runs // 2

    print(f"Guandu, 5 scenarios x {runs} runs; {os.cpu_count()} CPUs; "
          f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"load average before: {loadavg()}")
    # Each measurement --repeat times, in rounds; the least wall time counts (the machine may
    # be shared). The results of the last round are compared.
    walls = {"attain_t2": [], "attain_t1": [], "numpy_p1": [], "numpy_p2": []}
    for rep in range(args.repeat):
        if args.repeat > 1:
            print(f" round {rep + 1}:")
        wait_idle(args.wait_idle)
        wall, cpu, attain2 = timed(attain_cmd + ["--threads", "2"])
        walls["attain_t2"].append(wall)
        print(f"  attain --threads 2        {wall:8.2f} s   (CPU {cpu:.2f} s; load {loadavg()})")
        wait_idle(args.wait_idle)
        wall, cpu, attain1 = timed(attain_cmd + ["--threads", "1"])
        walls["attain_t1"].append(wall)
        print(f"  attain --threads 1        {wall:8.2f} s   (CPU {cpu:.2f} s; load {loadavg()})")
        wait_idle(args.wait_idle)
        wall, cpu, peer1 = timed(peer_cmd + ["--runs", str(runs), "--seed", str(args.seed)])
        walls["numpy_p1"].append(wall)
        print(f"  numpy, 1 process          {wall:8.2f} s   (CPU {cpu:.2f} s; load {loadavg()}; "
              f"compute {peer1['seconds']:.2f} s)")
        wait_idle(args.wait_idle)
        wall, cpu, peer2 = timed_parallel([
            peer_cmd + ["--runs", str(half), "--seed", str(args.seed + 1)],
            peer_cmd + ["--runs", str(runs - half), "--seed", str(args.seed + 2)]])
        walls["numpy_p2"].append(wall)
        print(f"  numpy, 2 processes        {wall:8.2f} s   (CPU {cpu:.2f} s; load {loadavg()}; "
              f"compute {peer2[0]['seconds']:.2f} s and {peer2[1]['seconds']:.2f} s)")
    timings = {k: min(v) for k, v in walls.items()}
    print(f"load average after: {loadavg()}")

    # agreement
    ta1, ta2 = hits_table(attain1), hits_table(attain2)
    if ta1 != ta2:
        print("note: attain's hits differ between --threads 1 and --threads 2")
    tn1 = hits_table(peer1)
    tn2 = combine([hits_table(d) for d in peer2])
    failed = False
    print()
    for label, tn in (("numpy 1 process (seed %d)" % args.seed, tn1),
                      ("numpy 2 processes (seeds %d, %d)" % (args.seed + 1, args.seed + 2), tn2)):
        rows = compare(ta2, tn)
        zs = [r for r in rows if r[4] is not None]
        worst = max(zs, key=lambda r: abs(r[4]))
        print(f"attain vs {label}: {len(zs)} comparisons ({len(rows) - len(zs)} skipped, "
              f"both 0 or 1), max |z| = {abs(worst[4]):.2f} ({worst[0]} {worst[1]}: "
              f"attain {worst[2]:.5f}, numpy {worst[3]:.5f})")
        for s, k, pa, pb, z in rows:
            if z is not None and abs(z) > 4:
                print(f"  {'FAIL' if abs(z) > 5 else 'suspicious'}: {s} {k}: attain {pa:.5f}, "
                      f"numpy {pb:.5f}, z = {z:.2f}")
                failed |= abs(z) > 5

    print()
    print("probabilities (attain --threads 2 | numpy 1 process):")
    names = list(ta2)
    print(f"  {'target':27s}" + "".join(f"{n:>22s}" for n in names))
    for k in ta2[names[0]]:
        cells = []
        for s in names:
            (ha, na), (hn, nn) = ta2[s][k], tn1[s][k]
            cells.append(f"{ha / na:.4f} | {hn / nn:.4f}")
        print(f"  {k:27s}" + "".join(f"{c:>22s}" for c in cells))

    print()
    if args.repeat > 1:
        print("least wall times: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    print("wall-time ratios (numpy / attain; above 1: attain is faster):")
    print(f"  numpy 1 process   / attain --threads 2: {timings['numpy_p1'] / timings['attain_t2']:6.2f}")
    print(f"  numpy 2 processes / attain --threads 2: {timings['numpy_p2'] / timings['attain_t2']:6.2f}")
    print(f"  numpy 1 process   / attain --threads 1: {timings['numpy_p1'] / timings['attain_t1']:6.2f}"
          "   (per core)")

    if args.save:
        with open(args.save, "w") as f:
            json.dump({"runs": runs, "seed": args.seed, "timings": timings, "walls": walls,
                       "attain_threads2": attain2, "attain_threads1": attain1,
                       "numpy_1process": peer1, "numpy_2processes": peer2}, f, indent=1)
    if failed:
        print("run_guandu: DISAGREEMENT: some |z| > 5")
        sys.exit(1)
    print("agreement: every |z| <= 5")


if __name__ == "__main__":
    main()
