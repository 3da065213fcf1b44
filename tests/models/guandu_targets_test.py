#!/usr/bin/env python3
"""Checks that models/guandu_innovation.yaml carries the 14 quantitative 2020 targets of the
Guandu innovation action plan (docs/models/sources/targets.md) with the plan's thresholds, and
every other reading of an ambiguous target as a target of its own (issue 13, finding 2), on
the node that reading measures; and that every scenario and structural variant loads.

Usage: python3 tests/models/guandu_targets_test.py <path-to-attain> <repo-root>

Standard library only: the model is read through `attain check --json`, not parsed here.
"""
import json
import math
import os
import subprocess
import sys

MODEL = "models/guandu_innovation.yaml"
SCENARIOS = ["baseline", "plan", "austerity", "boost", "talent_first"]
VARIANTS = ["talent_rd", "lumpy_rd", "patent_subsidy", "platforms", "ftz"]
TARGET_YEAR = 2020

# (target name, fragment of the plan's Chinese wording that the label must contain, op, threshold)
EXPECTED = [
    ("t01_rd_intensity", "2.5%", ">=", 2.5),
    ("t02_enterprise_rd_share", "规模以上工业企业R&D经费", ">=", 60.0),
    ("t03_high_tech_enterprises", "100个", ">=", 100.0),
    ("t04_invention_patents", "13件", ">=", 13.0),
    ("t05_tech_services_revenue", "70亿元", ">=", 70.0),
    ("t06_incubation_area", "20万平方米", ">=", 20.0),
    ("t07_broadband_households", "37万户", ">=", 370000.0),
    ("t08_scientific_literacy", "11.18%", ">=", 11.18),
    # "近11亿元" (nearly 1.1 bn yuan) is read as >= 10.5 亿元: see the target's source.
    ("t09_tech_contracts", "11亿元", ">=", 10.5),
    ("t10_national_incubator", "零突破", ">=", 1.0),
    # doubling relative to 2016: the node is the ratio to the 2016 count.
    ("t11_top500_doubling", "倍增", ">=", 2.0),
    ("t12_service_institutions", "5个以上", ">=", 5.0),
    ("t13_expert_workstations", "工作站5个", ">=", 5.0),
    ("t14_innovation_teams", "30个", ">=", 30.0),
]

# The other readings of the ambiguous targets: (name, fragment, op, threshold, node).
READINGS = [
    # Target 2 as section 三(一)1 words it: all above-scale enterprises, not industry alone.
    ("t02_all_enterprises", "60%以上由企业支出", ">=", 60.0, "all_ent_rd_share"),
    # Target 9: "nearly 11" at 10 and 11 亿元, and turnover of contracts bought (吸纳).
    ("t09_at_10", "近11亿元", ">=", 10.0, "tech_contracts"),
    ("t09_at_11", "近11亿元", ">=", 11.0, "tech_contracts"),
    ("t09_bought", "吸纳", ">=", 10.5, "tech_bought"),
    # Target 14: 30 teams in total, those existing before 2018 included.
    ("t14_teams_in_total", "30个", ">=", 30.0, "teams_total"),
]


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print("ok    " + what)
        else:
            self.failed += 1
            print("FAIL  " + what)
        return ok


def run_check(attain, root, scenario_files, extra=()):
    cmd = [attain, "check", "--json", MODEL, *extra]
    for s in scenario_files:
        cmd += ["--scenario", s]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    return cmd, proc


def same_number(a, b):
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def main(argv):
    if len(argv) != 3:
        print("usage: guandu_targets_test.py <path-to-attain> <repo-root>", file=sys.stderr)
        return 2
    attain = os.path.abspath(argv[1])
    root = os.path.abspath(argv[2])
    c = Checker()
    if not c.check(os.access(attain, os.X_OK), "attain binary is executable: " + attain):
        print("{} passed, {} failed".format(c.passed, c.failed))
        return 1

    cmd, proc = run_check(attain, root, [])
    if not c.check(proc.returncode == 0,
                   "`{}` exits 0 (got {}){}".format(" ".join(cmd[1:]), proc.returncode,
                                                    ": " + proc.stderr.strip() if proc.returncode else "")):
        print("{} passed, {} failed".format(c.passed, c.failed))
        return 1
    try:
        summary = json.loads(proc.stdout)
    except ValueError as e:
        c.check(False, "check --json prints JSON ({})".format(e))
        print("{} passed, {} failed".format(c.passed, c.failed))
        return 1

    c.check(summary.get("model") == "guandu_innovation",
            "model name is guandu_innovation (got {!r})".format(summary.get("model")))
    targets = summary.get("targets")
    if not c.check(isinstance(targets, list), "summary has a 'targets' list"):
        print("{} passed, {} failed".format(c.passed, c.failed))
        return 1
    c.check(len(targets) == len(EXPECTED) + len(READINGS),
            "model has {} targets (got {})".format(len(EXPECTED) + len(READINGS), len(targets)))
    names = [t.get("name") for t in targets if t.get("name")]
    c.check(len(names) == len(set(names)), "target names are unique")

    by_name = {t.get("name"): t for t in targets}
    for name, fragment, op, threshold, *node in EXPECTED + READINGS:
        t = by_name.get(name)
        if not c.check(t is not None, "{}: is a target".format(name)):
            continue
        c.check(fragment in str(t.get("label", "")),
                "{}: label contains '{}' (got {!r})".format(name, fragment, t.get("label")))
        if node:
            c.check(t.get("node") == node[0], "{}: on node {} (got {!r})".format(name, node[0], t.get("node")))
        c.check(same_number(t.get("year"), TARGET_YEAR),
                "{}: year {} (got {!r})".format(name, TARGET_YEAR, t.get("year")))
        c.check(t.get("op") == op, "{}: op {} (got {!r})".format(name, op, t.get("op")))
        c.check(same_number(t.get("threshold"), threshold),
                "{}: threshold {} (got {!r})".format(name, threshold, t.get("threshold")))

    # The actuals are checks of the model, not inputs.
    actuals = {(a.get("node"), int(float(a.get("year", 0)))): a.get("value")
               for a in summary.get("actuals", [])}
    c.check(same_number(actuals.get(("gdp", 2020)), 1383.47), "actual: GDP 2020 = 1383.47")
    c.check(same_number(actuals.get(("population", 2020)), 160.2279),
            "actual: population 2020 census = 160.2279")
    c.check(summary.get("unused") == [], "every node affects a target or actual (unused: {})".format(
        summary.get("unused")))

    # Every scenario file and every structural variant loads against the model.
    variants = ["variants/{}_{}".format(v, base) for v in VARIANTS for base in ("plan", "baseline")]
    for s in SCENARIOS + variants + ["variants/talent_rd_talent_first"]:
        path = "scenarios/guandu/{}.yaml".format(s)
        cmd, proc = run_check(attain, root, [path], ["--scenario-dir", "scenarios/guandu"])
        s = os.path.basename(s)
        ok = proc.returncode == 0
        if ok:
            try:
                names = [x.get("name") for x in json.loads(proc.stdout).get("scenarios", [])]
                ok = names == [s]
            except ValueError:
                ok = False
        c.check(ok, "scenario {} checks against the model{}".format(
            path, "" if ok else ": " + (proc.stderr.strip() or proc.stdout.strip()[:200])))

    print("{} passed, {} failed".format(c.passed, c.failed))
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
