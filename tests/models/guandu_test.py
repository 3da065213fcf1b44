"""Regression and direction tests of the Guandu model (models/guandu_innovation.yaml).

Usage: /usr/bin/python3 tests/models/guandu_test.py ATTAIN_BINARY REPO_ROOT

1. Regression: each target's probability in each of the five scenarios, from 20,000 runs,
   lies within its sampling interval around the reference value measured with 10^6 runs
   (tests/models/guandu_reference.json). A change that moves a headline probability
   fails here and must be explained (and the reference re-measured).
2. Direction under common random numbers: more fiscal S&T funding never lowers the
   R&D-intensity target's hits, and `austerity` never beats `plan` on it, run by run.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from checks import check, finish  # noqa: E402 (tests/cli/checks.py)

attain, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
model = os.path.join(root, "models/guandu_innovation.yaml")
scen = {s: os.path.join(root, f"scenarios/guandu/{s}.yaml")
        for s in ["baseline", "plan", "austerity", "boost", "talent_first"]}



def run_json(scenarios, runs, seed=1, extra=()):
    args = [attain, "run", model, "--runs", str(runs), "--seed", str(seed), "--json", "--quiet"]
    for s in scenarios:
        args += ["--scenario", s]
    out = subprocess.run(args + list(extra), check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# 1. Regression against the 10^6-run reference.
with open(os.path.join(root, "tests/models/guandu_reference.json")) as f:
    ref = json.load(f)
runs = 20000
got = run_json(scen.values(), runs, seed=ref["seed"] + 1)  # an independent sample
for sc in got["scenarios"]:
    for t in sc["targets"]:
        p_ref = ref["probabilities"][sc["name"]][t["name"]]
        # 4.5 standard errors of the 20,000-run estimate, plus the reference's own.
        se = math.sqrt(max(p_ref * (1 - p_ref), 1 / runs) / runs)
        tol = 4.5 * se + 4.5 * math.sqrt(max(p_ref * (1 - p_ref), 1e-6) / ref["runs"])
        check(abs(t["probability"] - p_ref) <= tol,
              f"{sc['name']}/{t['name']}: p = {t['probability']:.4f}, reference {p_ref:.4f} +- {tol:.4f}")

# 2. Direction tests under common random numbers.
with tempfile.TemporaryDirectory() as tmp:
    files = []
    for scale in [0.5, 0.8, 1.0, 1.25, 1.5, 2.0]:
        name = f"funding_x{str(scale).replace('.', '_')}"
        path = os.path.join(tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write(f"scenario: {name}\nmodel: guandu_innovation\nextends: {scen['plan']}\n"
                    f"description: plan with fiscal S&T funding x {scale}\n"
                    f"levers:\n  fiscal_st_index: {{scale: {scale}}}\n")
        files.append(path)
    out = os.path.join(tmp, "d.h5")
    # The scenarios here extend plan.yaml in another folder: allowed by --scenario-dir.
    res = run_json(files, 20000, extra=["--store", "targets", "--out", out,
                                        "--scenario-dir", os.path.dirname(scen["plan"])])
    hits = [next(t["hits"] for t in sc["targets"] if t["name"] == "t01_rd_intensity")
            for sc in res["scenarios"]]
    check(all(a <= b for a, b in zip(hits, hits[1:])), f"R&D-intensity hits rise with funding: {hits}")
    with h5py.File(out) as f:
        names = list(f["scenarios"][f.attrs["scenarios"][0]]["target"].asstr()[()])
        j = names.index("t01_rd_intensity")
        cols = [f["scenarios"][s]["target_values"][:, j] for s in f.attrs["scenarios"]]
        for a, b, sa, sb in zip(cols, cols[1:], f.attrs["scenarios"], f.attrs["scenarios"][1:]):
            check(np.all(a <= b), f"R&D intensity run by run: {sa} <= {sb}")
    out2 = os.path.join(tmp, "pa.h5")
    run_json([scen["plan"], scen["austerity"]], 20000, extra=["--store", "targets", "--out", out2])
    with h5py.File(out2) as f:
        names = list(f["scenarios/plan/target"].asstr()[()])
        j = names.index("t01_rd_intensity")
        plan = f["scenarios/plan/target_values"][:, j]
        aust = f["scenarios/austerity/target_values"][:, j]
        check(np.all(aust <= plan), "austerity never beats plan on R&D intensity, run by run")
        check(f["scenarios/austerity/hits"][j] <= f["scenarios/plan/hits"][j],
              "austerity hits <= plan hits")

finish()
