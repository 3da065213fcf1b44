"""Regression and direction tests of the Guandu model (models/guandu_innovation.yaml).

Usage: /usr/bin/python3 tests/models/guandu_test.py ATTAIN_BINARY REPO_ROOT

1. Regression: each target's probability in each of the five scenarios, from 20,000 runs,
   lies within its sampling interval around the reference value measured with 10^6 runs
   (tests/models/guandu_reference.json). A change that moves a headline probability
   fails here and must be explained (and the reference re-measured).
   The expected number of targets met is checked the same way (its sd over runs is at most
   half the number of targets).
2. Direction under common random numbers: more fiscal S&T funding never lowers the
   R&D-intensity target's hits, and `austerity` never beats `plan` on it, run by run.
3. Cost: each scenario's reported cost (--json) equals the sum of its levers' costs over
   2018-2020, computed here by hand from the prices in the model's `cost` keys.
4. Structural variants (scenarios/guandu/variants/): each loads and runs, its switch moves
   the targets it is about, and the parameters it leaves alone draw the same runs.
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
    e_ref = ref["expected_met"][sc["name"]]
    half = len(sc["targets"]) / 2
    tol = 4.5 * half / math.sqrt(runs) + 4.5 * half / math.sqrt(ref["runs"])
    check(abs(sc["targets_met"]["expected"] - e_ref) <= tol,
          f"{sc['name']}: expected targets met {sc['targets_met']['expected']:.4f}, reference {e_ref:.4f} +- {tol:.4f}")

# 3. Cost by hand: each lever's value in 2018, 2019, 2020 under each scenario, times its price
# per unit (the model's `cost` keys), summed.
PRICE = {"fiscal_st_index": 1.8, "tech_finance": 0.15, "sci_pop_index": 0.1, "incubator_build": 0.1,
         "inst_courted": 0.02, "workstation_applications": 0.005, "district_team_quota": 0.003,
         "talent_attraction": 0.2, "broadband_rollout": 0.05, "hq_attraction": 0.1}
YEARS = [1, 2, 3]  # 2018-2020, years after 2017
PLAN = {"fiscal_st_index": [1.15 ** k for k in YEARS], "tech_finance": [1, 2, 3],
        "sci_pop_index": [1.15 ** k for k in YEARS], "incubator_build": [7] * 3, "inst_courted": [4] * 3,
        "workstation_applications": [3] * 3, "district_team_quota": [9] * 3, "talent_attraction": [1.5] * 3,
        "broadband_rollout": [1.5] * 3, "hq_attraction": [2] * 3}
BASELINE = {"fiscal_st_index": [1.06 ** k for k in YEARS], "tech_finance": [0] * 3, "sci_pop_index": [1] * 3,
            "incubator_build": [1] * 3, "inst_courted": [1] * 3, "workstation_applications": [1] * 3,
            "district_team_quota": [5] * 3, "talent_attraction": [1] * 3, "broadband_rollout": [1] * 3,
            "hq_attraction": [1] * 3}


def scaled(base, factor, levers):
    return {k: [x * (factor if k in levers else 1) for x in v] for k, v in base.items()}


FUNDING = ["fiscal_st_index", "tech_finance", "sci_pop_index"]
LEVERS = {"baseline": BASELINE, "plan": PLAN, "austerity": scaled(PLAN, 0.8, FUNDING),
          "boost": scaled(PLAN, 1.5, FUNDING),
          "talent_first": scaled(PLAN, 2.0, ["workstation_applications", "district_team_quota",
                                             "talent_attraction"])}
for sc in got["scenarios"]:
    by_hand = {k: PRICE[k] * sum(v) for k, v in LEVERS[sc["name"]].items()}
    cost = sc["cost"]
    check(cost["unit"] == "100 million yuan", f"{sc['name']}: cost unit {cost['unit']}")
    check({c["lever"] for c in cost["levers"]} == set(PRICE), f"{sc['name']}: every lever has a cost")
    for c in cost["levers"]:
        check(abs(c["total"] - by_hand[c["lever"]]) < 1e-9,
              f"{sc['name']}/{c['lever']}: cost {c['total']:.6f} = by hand {by_hand[c['lever']]:.6f}")
    check(abs(cost["total"] - sum(by_hand.values())) < 1e-9,
          f"{sc['name']}: cost {cost['total']:.6f} = sum of the levers' costs by hand {sum(by_hand.values()):.6f}")

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

# 4. Structural variants: each loads and runs beside the main model's plan; its switch moves
# what it is about, and nothing else moves (common random numbers: the variant's parameters
# have their own streams).
vdir = os.path.join(root, "scenarios/guandu/variants")
MOVES = {"talent_rd": "t02_all_enterprises", "lumpy_rd": "t01_rd_intensity",
         "patent_subsidy": "t04_invention_patents", "platforms": "t09_tech_contracts",
         "ftz": "t05_tech_services_revenue"}
files = [scen["plan"]] + [os.path.join(vdir, f"{v}_plan.yaml") for v in MOVES]
res = run_json(files, 5000, extra=["--scenario-dir", os.path.join(root, "scenarios/guandu")])
hits = {sc["name"]: {t["name"]: t["hits"] for t in sc["targets"]} for sc in res["scenarios"]}
for v, target in MOVES.items():
    check(hits[f"{v}_plan"][target] > hits["plan"][target],
          f"variant {v} raises {target}: {hits[f'{v}_plan'][target]} > {hits['plan'][target]} hits")
    check(hits[f"{v}_plan"]["t06_incubation_area"] == hits["plan"]["t06_incubation_area"],
          f"variant {v} leaves the incubation area alone")
res = run_json([scen["baseline"], os.path.join(vdir, "platforms_baseline.yaml")], 5000,
               extra=["--scenario-dir", os.path.join(root, "scenarios/guandu")])
check(res["scenarios"][0]["targets"] == res["scenarios"][1]["targets"],
      "platforms_baseline is the baseline (no platforms without the plan)")

finish()
