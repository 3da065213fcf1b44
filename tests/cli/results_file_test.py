"""Reads attain's HDF5 results with h5py (outside the engine) and checks bit-identity.

Usage: /usr/bin/python3 results_file_test.py ATTAIN_BINARY REPO_ROOT
Runs the same ensemble on 1, 2 and 4 threads and two block sizes, compares every
dataset byte for byte, and checks the layout of docs/results-format.md.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from checks import check, finish  # tests/cli/checks.py

attain, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
model = os.path.join(root, "tests/data/stochastic.yaml")
base = os.path.join(root, "tests/data/stochastic_base.yaml")
scenario = os.path.join(root, "tests/data/stochastic_more.yaml")



def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


with tempfile.TemporaryDirectory() as tmp:
    files = []
    for threads, block in [(1, 256), (2, 256), (4, 256), (2, 61), (1, 1000)]:
        out = os.path.join(tmp, f"r_{threads}_{block}.h5")
        subprocess.run([attain, "run", model, "--scenario", base, "--scenario", scenario, "--runs", "9000", "--seed", "7",
                        "--threads", str(threads), "--force-threads", "--block", str(block), "--store", "full",
                        "--out", out, "--quiet"], check=True, stdout=subprocess.DEVNULL)
        files.append(out)
    ref = datasets(files[0])
    check(len(ref) > 30, f"expected many datasets, got {len(ref)}")
    for other in files[1:]:
        d = datasets(other)
        check(sorted(d) == sorted(ref), f"{other}: same dataset names")
        for name, value in ref.items():
            a, b = np.asarray(value), np.asarray(d[name])
            same = a.tobytes() == b.tobytes() if a.dtype.kind != "O" else list(a.ravel()) == list(b.ravel())
            check(same, f"{other}: dataset {name} differs")

    with h5py.File(files[0], "r") as f:
        check(f.attrs["filetype"] == "attain-results", "filetype")
        check(list(f.attrs["version"]) == [2, 1], "version")
        check(f.attrs["runs"] == 9000 and f.attrs["seed"] == 7, "runs and seed")
        check(list(f.attrs["scenarios"]) == ["base", "more_funding"], "scenario order")
        check("funding" in f["model"].attrs["source"], "model source embedded")
        names = list(f["model/node"].asstr()[()])
        check(names[:3] == ["funding", "g", "y"], f"node order {names}")
        labels = list(f["model/node_label"].asstr()[()])
        check("高新技术企业" in labels, "UTF-8 labels")
        steps = len(f["model/time"][()])
        for sc in ["base", "more_funding"]:
            g = f["scenarios"][sc]
            t = g
            hits, runs = t["hits"][()], t["runs"][()]
            check(np.array_equal(t["probability"][()], hits / runs), f"{sc}: probability = hits/runs")
            check(np.all(t["ci_low"][()] <= t["probability"][()]) and np.all(t["probability"][()] <= t["ci_high"][()]),
                  f"{sc}: interval contains p")
            check(np.array_equal(t["first_met"][()].sum(axis=1) + t["never_met"][()], runs), f"{sc}: first_met adds up")
            values = g["values"][()]
            check(values.shape == (9000, steps, len(names)), f"{sc}: values shape {values.shape}")
            tv = g["target_values"][()]
            node_idx = [names.index(n) for n in t["target_node"].asstr()[()]]
            year_idx = [list(f["model/time"][()]).index(y) for y in t["target_year"][()]]
            for j, (n, k) in enumerate(zip(node_idx, year_idx)):
                check(np.array_equal(tv[:, j], values[:, k, n]), f"{sc}: target_values column {j}")
                thr, op = t["threshold"][j], t["target_op"].asstr()[j]
                met = {">=": tv[:, j] >= thr, ">": tv[:, j] > thr, "<=": tv[:, j] <= thr, "<": tv[:, j] < thr}[op]
                check(met.sum() == hits[j], f"{sc}: hits of target {j}")
            joint = np.all([{">=": tv[:, j] >= t["threshold"][j]}[">="] for j in range(len(node_idx))], axis=0)
            check(joint.sum() == g["joint_hits"][()], f"{sc}: joint hits")
            # The number of targets each run meets, counted from its target values.
            ops = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
            k = sum(ops[t["target_op"].asstr()[j]](tv[:, j], t["threshold"][j]).astype(int)
                    for j in range(len(node_idx)))
            check(np.array_equal(g["met_runs"][()], np.bincount(k, minlength=len(node_idx) + 1)),
                  f"{sc}: met_runs counts the runs meeting exactly k targets")
            check(list(g["targets_met"][()]) == list(range(len(node_idx) + 1)), f"{sc}: targets_met")
            check(np.isclose(g["expected_met"][()], k.mean(), rtol=1e-12)
                  and g["expected_met_ci_low"][()] < k.mean() < g["expected_met_ci_high"][()],
                  f"{sc}: expected_met {g['expected_met'][()]} = mean {k.mean()}")
            check("cost" not in g and "cost_lever" not in g, f"{sc}: no cost without levers' costs")
            s = g
            check(np.allclose(s["mean"][()], values.mean(axis=0).T, rtol=1e-12, atol=1e-12), f"{sc}: means")
            check(np.allclose(s["sd"][()], values.std(axis=0, ddof=1).T, rtol=1e-9, atol=1e-9), f"{sc}: sds")
            check(np.array_equal(s["min"][()], values.min(axis=0).T), f"{sc}: min")
            levels = s["quantile"][()]
            q = s["quantiles"][()]
            srt = np.sort(values, axis=0)
            for li, lev in enumerate(levels):
                exact = srt[int(np.ceil(lev * 9000)) - 1].T
                check(np.all(np.abs(q[:, :, li] - exact) <= np.abs(exact) * 2.0 ** -8 + 1e-300),
                      f"{sc}: quantile {lev} within 2^-8")
            params = g["parameters"][()]
            pnames = list(f["model/parameter"].asstr()[()])
            check(np.array_equal(params[:, 0], values[:, 0, names.index(pnames[0])]), f"{sc}: parameters column")
            gdp = values[:, steps - 1, names.index("gdp")]
            pct = ((gdp < 1260).sum() + 0.5 * (gdp == 1260).sum()) / 9000
            check(g["actual_percentile"][0] == pct, f"{sc}: actual percentile")
        # Common random numbers: same parameters in both scenarios, more firms with more funding.
        p0 = f["scenarios/base/parameters"][()]
        p1 = f["scenarios/more_funding/parameters"][()]
        check(np.array_equal(p0, p1), "common random numbers: parameters identical across scenarios")

    # compare: the scenario groups as `run` writes them (same runs), plus /comparisons.
    cmp = os.path.join(tmp, "compare.h5")
    subprocess.run([attain, "compare", model, "--scenario", base, "--scenario", scenario, "--runs", "9000",
                    "--seed", "7", "--store", "full", "--out", cmp, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    run_file = datasets(files[0])
    with h5py.File(cmp, "r") as f:
        check(f.attrs["analysis"] == "compare", "compare: analysis attribute")
        for name in ["scenarios/base/hits", "scenarios/more_funding/values",
                     "scenarios/base/mean", "scenarios/more_funding/actual_below"]:
            check(np.array_equal(f[name][()], run_file[name]), f"compare file equals run file: {name}")
        c = f["comparisons/more_funding"]
        check(c.attrs["reference"] == "base", "comparison reference")
        names = list(c["target"].asstr()[()])
        check(names[-1] == "all targets" and len(names) == 3, "comparison rows: targets then the joint")
        tv0 = f["scenarios/base/target_values"][()]
        tv1 = f["scenarios/more_funding/target_values"][()]
        firms = names.index(names[1])
        met0, met1 = tv0[:, firms] >= 80, tv1[:, firms] >= 80
        check(c["helped"][firms] == int((met1 & ~met0).sum()), "helped counted from the per-run rows")
        check(c["hurt"][firms] == int((met0 & ~met1).sum()), "hurt counted from the per-run rows")
        d = tv1[:, firms] - tv0[:, firms]
        check(abs(c["value_difference"][firms] - d.mean()) < 1e-9 * max(1, abs(d.mean())),
              "value difference is the mean per-run difference")
        check(c["ci_low"][firms] <= c["difference"][firms] <= c["ci_high"][firms], "difference inside its interval")

    # sweep and search groups.
    sw = os.path.join(tmp, "sweep.h5")
    subprocess.run([attain, "sweep", model, "--lever", "funding=1:1.5:2", "--runs", "9000", "--seed", "7",
                    "--out", sw, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    with h5py.File(sw, "r") as f, h5py.File(cmp, "r") as c:
        g = f["sweep"]
        check(g["levels"].shape == (2, 1) and list(g["level_kind"].asstr()[()]) == ["scale"], "sweep levels")
        # Scale 1 and 1.5 are the base and more_funding scenarios on the same runs.
        check(np.array_equal(g["hits"][0], c["scenarios/base/hits"][()]), "sweep point 1 = base scenario")
        check(np.array_equal(g["hits"][1], c["scenarios/more_funding/hits"][()]),
              "sweep point 1.5 = more_funding scenario")
    se = os.path.join(tmp, "search.h5")
    subprocess.run([attain, "search", model, "--lever", "funding", "--target", "firms", "--probability", "0.5",
                    "--runs", "9000", "--out", se, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    with h5py.File(se, "r") as f:
        g = f["search"]
        lv = g["level"][()]
        check(np.all(np.diff(lv) > 0), "search evaluations ascending")
        check(g.attrs["reachable"] == 1 and g.attrs["probability"] >= 0.5, "search reached its goal")
        check(g.attrs["level_low"] <= g.attrs["level"] <= g.attrs["level_high"], "search level inside its range")

    # A run that fails leaves nothing behind.
    bad = os.path.join(tmp, "bad.h5")
    r = subprocess.run([attain, "run", model, "--runs", "0", "--out", bad], capture_output=True, text=True)
    check(r.returncode == 2 and not os.path.exists(bad), "--runs 0: exit 2, no file")
    check(not [x for x in os.listdir(tmp) if ".tmp-" in x], "no temporary files left")

# Levers' costs: the scenario's cost in the table, the file and --json is the sum of each
# lever's cost over the years after the start, as computed here by hand.
COST_MODEL = """model: priced
description: funding and construction with their costs
time: {start: 2017, end: 2020}
cost_unit: 100 million yuan
levers:
  funding: {label: f, unit: 100 million yuan / year, description: d, source: s, growth: {initial: 3, rate: 0.1}, cost: funding}
  build: {label: b, unit: 10k m2 / year, description: d, source: s, series: {2017: 1, 2018: 4}, cost: 0.25 * build + 0.1 * prev(build)}
parameters:
  y: {label: y, unit: "1", description: d, source: s, dist: uniform, min: 1, max: 3}
stocks:
  firms: {label: f, unit: firms, description: d, source: s, initial: 10, change: y * funding + build}
targets:
  - {node: firms, op: ">=", threshold: 30, label: t, source: s}
  - {name: more_firms, node: firms, op: ">=", threshold: 40, label: t, source: s}
"""
with tempfile.TemporaryDirectory() as tmp:
    mpath, spath = os.path.join(tmp, "priced.yaml"), os.path.join(tmp, "double.yaml")
    with open(mpath, "w") as fh:
        fh.write(COST_MODEL)
    with open(spath, "w") as fh:
        fh.write("scenario: double\nmodel: priced\ndescription: d\nlevers:\n  funding: {scale: 2}\n"
                 "  build: {value: 6}\n")
    funding = [3 * 1.1 ** (t - 2017) for t in (2018, 2019, 2020)]
    by_hand = {"default": (sum(funding), 3 * 0.25 * 4 + 0.1 * (1 + 4 + 4)),
               "double": (2 * sum(funding), 3 * 0.25 * 6 + 0.1 * 3 * 6)}
    out = os.path.join(tmp, "c.h5")
    args = [attain, "run", mpath, "--runs", "2000", "--quiet"]
    text = subprocess.run(args + ["--scenario", spath], check=True, capture_output=True, text=True).stdout
    row = next((line for line in text.splitlines() if line.startswith("cost, 2018-2020")), "")
    check(f"{sum(by_hand['double']):.4g}" in row, f"table row {row!r} shows the cost {sum(by_hand['double']):.4g}")
    check(any(line.startswith("expected targets met") for line in text.splitlines()), "table: expected targets met")
    import json
    doc = json.loads(subprocess.run(args + ["--json", "--out", out], check=True, capture_output=True,
                                    text=True).stdout)
    cost = doc["scenarios"][0]["cost"]
    check(cost["unit"] == "100 million yuan" and [c["lever"] for c in cost["levers"]] == ["funding", "build"],
          f"--json cost: {cost}")
    check(abs(cost["total"] - sum(by_hand["default"])) < 1e-12
          and all(abs(c["total"] - h) < 1e-12 for c, h in zip(cost["levers"], by_hand["default"])),
          f"--json cost {cost['total']} = by hand {sum(by_hand['default'])}")
    met = doc["scenarios"][0]["targets_met"]
    check(sum(met["runs"]) == 2000 and abs(met["expected"] - sum(
        t["probability"] for t in doc["scenarios"][0]["targets"])) < 1e-12, f"--json targets_met: {met}")
    with h5py.File(out, "r") as f:
        g = f["scenarios/default"]
        check(abs(g["cost"][()] - sum(by_hand["default"])) < 1e-12, f"file cost {g['cost'][()]}")
        check(list(g["cost_lever"].asstr()[()]) == ["funding", "build"], "file cost_lever")
        check(np.allclose(g["lever_cost"][()], by_hand["default"], rtol=0, atol=1e-12), "file lever_cost")
        check(g["cost"].attrs["units"] == "100 million yuan", "file cost units")
    # A sweep gives the cost at each point: funding's scale multiplies its cost.
    sw_out = os.path.join(tmp, "sw.h5")
    doc = json.loads(subprocess.run([attain, "sweep", mpath, "--lever", "funding=1:2:3", "--runs", "500",
                                     "--quiet", "--json", "--out", sw_out],
                                    check=True, capture_output=True, text=True).stdout)
    want = [s * by_hand["default"][0] + by_hand["default"][1] for s in (1, 1.5, 2)]
    got = [p["cost"] for p in doc["sweep"]["points"]]
    check(all(abs(a - b) < 1e-12 for a, b in zip(got, want)) and len(got) == 3, f"sweep cost {got} = {want}")
    with h5py.File(sw_out, "r") as f:
        check(np.allclose(f["sweep/cost"][()], want, rtol=0, atol=1e-12), "file /sweep/cost")

finish()
