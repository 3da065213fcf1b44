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

finish()
