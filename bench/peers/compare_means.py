#!/usr/bin/env python3
"""Compare every node's mean at every step between attain and the numpy peer (debugging aid).

    bench/peers/compare_means.py [--runs 200000] [--attain build/attain] SCENARIO.yaml ...

Runs `attain run models/guandu_innovation.yaml --store summary --out TMP.h5` and
`guandu_numpy.py --means --json` on the same scenarios and prints, per scenario, the nodes
whose means differ most: z = (m_a - m_n) / sqrt(sd_a^2 / n_a + sd_n^2 / n_n), and for
nodes that do not vary (levers, fixed values) any difference beyond rounding. Needs h5py.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = "models/guandu_innovation.yaml"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenarios", nargs="+")
    ap.add_argument("--runs", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--attain", default=os.path.join(ROOT, "build/attain"))
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--show", type=int, default=12, help="rows shown per scenario (default 12)")
    args = ap.parse_args()

    scen = [os.path.abspath(s) for s in args.scenarios]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "summary.h5")
        cmd = [args.attain, "run", MODEL, "--runs", str(args.runs), "--seed", str(args.seed),
               "--store", "summary", "--out", out, "--quiet", "--json"]
        for s in scen:
            cmd += ["--scenario", s]
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        attain = {}
        with h5py.File(out, "r") as f:
            names = [n.decode() if isinstance(n, bytes) else n for n in f["model/node"][()]]
            for s in f["scenarios"]:
                g = f["scenarios"][s]
                attain[s] = (int(g.attrs["runs"]), g["mean"][()], g["sd"][()])
    peer = json.loads(subprocess.run(
        [args.python, os.path.join(ROOT, "bench/peers/guandu_numpy.py"), *scen, "--means",
         "--json", "--runs", str(args.runs), "--seed", str(args.seed)],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout)

    worst_all = 0.0
    for sp in peer["scenarios"]:
        na, mean_a, sd_a = attain[sp["name"]]
        nn = sp["runs"]
        rows = []
        for i, node in enumerate(names):
            if node not in sp["means"]:
                rows.append((math.inf, node, -1, math.nan, math.nan, "missing in the peer"))
                continue
            for k in range(mean_a.shape[1]):
                ma, mn = mean_a[i, k], sp["means"][node][k]
                sa, sn = sd_a[i, k], sp["sds"][node][k]
                se = math.sqrt(sa ** 2 / na + sn ** 2 / nn)
                if se > 1e-12 * max(1.0, abs(ma)):
                    rows.append((abs(ma - mn) / se, node, k, ma, mn, f"z = {(ma - mn) / se:+.2f}"))
                elif abs(ma - mn) > 1e-9 * max(1.0, abs(ma)):
                    rows.append((math.inf, node, k, ma, mn, "constant, differs"))
        rows.sort(key=lambda r: -r[0])
        worst_all = max(worst_all, rows[0][0])
        print(f"{sp['name']}: {len(rows)} node-steps, max |z| of the means = {rows[0][0]:.2f}")
        for z, node, k, ma, mn, note in rows[:args.show]:
            print(f"  {node:26s} step {k}  attain {ma:14.6g}  numpy {mn:14.6g}  {note}")
        # The spread too: the ratio of the sds (no test; about 1e-3 is sampling noise at 10^6).
        ratios = sorted(((sd_a[i, k] / sp["sds"][node][k], node, k)
                         for i, node in enumerate(names) if node in sp["sds"]
                         for k in range(sd_a.shape[1])
                         if sd_a[i, k] > 1e-9 * max(1.0, abs(mean_a[i, k]))),
                        key=lambda r: -abs(r[0] - 1))
        print("  sd ratios attain / numpy furthest from 1: " + ", ".join(
            f"{node}[{k}] {r:.4f}" for r, node, k in ratios[:4]))
    sys.exit(1 if worst_all > 5 else 0)


if __name__ == "__main__":
    main()
