"""Checks `attain sensitivity` from the command line: JSON, table, HDF5 file and errors.

Usage: /usr/bin/python3 sensitivity_test.py ATTAIN_BINARY REPO_ROOT CASE
CASE is one of:
  every_model        every model in models/ (and Guandu with its plan scenario) and the
                     Ishigami model: exit 0, the JSON's layout, the table names each target
  ishigami_analytic  the Ishigami function's analytic S1 and ST lie in the intervals
  reproducible       JSON and HDF5 identical for --threads 1 and 2 and --block 16; a
                     different --seed changes them
  results_file       --out: the group /sensitivity/<scenario> and its values equal the JSON's
  errors             bad options: exit 2, one line 'attain: error: ...', no output file
  factor_grouping    correlation groups, --factor groups and the shocks factor
  prim_box           PRIM finds the box a > 0.7 and b < 0.3 of a model met only there
"""
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import yaml

from checks import check, finish  # tests/cli/checks.py

attain, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
case = sys.argv[3]
data = os.path.join(root, "tests/data")
ishigami = os.path.join(data, "ishigami.yaml")
stochastic = os.path.join(data, "stochastic.yaml")



def run(args, cwd=None):
    """Runs `attain sensitivity ARGS --quiet`; returns the finished process."""
    return subprocess.run([attain, "sensitivity", *args, "--quiet"], cwd=cwd,
                          capture_output=True, text=True)


def no_constants(name):
    raise ValueError(f"JSON holds {name}; non-finite numbers must be null")


def run_json(args, cwd=None):
    """Runs with --json; checks exit 0 and returns the parsed JSON (or None)."""
    r = run([*args, "--json"], cwd=cwd)
    check(r.returncode == 0, f"{args}: exit {r.returncode}, stderr: {r.stderr.strip()}")
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout, parse_constant=no_constants)
    except ValueError as e:
        check(False, f"{args}: the JSON does not parse: {e}")
        return None


def target_names(model_path):
    with open(model_path, encoding="utf-8") as f:
        model = yaml.safe_load(f)
    return [t.get("name", t["node"]) for t in model.get("targets", [])]


def finite_or_null(v):
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))


def entry(j, target, output, scenario=None):
    """The "sensitivity" entry of a target and output (one, else a failed check)."""
    found = [e for e in j["sensitivity"]
             if e["target"] == target and e["output"] == output
             and (scenario is None or e["scenario"] == scenario)]
    check(len(found) == 1, f"one {output} entry of target {target}, got {len(found)}")
    return found[0] if found else None


def strip_seconds(x):
    if isinstance(x, dict):
        return {k: strip_seconds(v) for k, v in x.items() if k != "seconds"}
    if isinstance(x, list):
        return [strip_seconds(v) for v in x]
    return x


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def same_array(a, b):
    """Exact equality: bytes for numbers (so NaN equals NaN), values for strings."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "O":
        return list(a.ravel()) == list(b.ravel())
    return a.tobytes() == b.tobytes()


def same_double(h5_value, json_v):
    h = float(h5_value)
    if json_v is None:
        return math.isnan(h)
    return h == json_v


# ---------------------------------------------------------------------------------------
def check_layout(j, model_path, label):
    """The JSON layout of one analysis of `model_path`."""
    for key in ["sensitivity", "prim", "scenarios"]:
        check(key in j, f"{label}: key '{key}'")
    if not all(key in j for key in ["sensitivity", "prim", "scenarios"]):
        return
    check(isinstance(j["prim"], list), f"{label}: prim is a list")
    scenario_names = [s["scenario"] for s in j["scenarios"]]
    check(len(scenario_names) >= 1, f"{label}: at least one scenario")
    factors_of = {s["scenario"]: [f["name"] for f in s["factors"]] for s in j["scenarios"]}
    targets = target_names(model_path)
    check(len(targets) >= 1, f"{label}: the model has targets")
    for sc in scenario_names:
        for t in targets:
            for output in ["met", "value"]:
                check(len([e for e in j["sensitivity"] if e["scenario"] == sc and e["target"] == t
                           and e["output"] == output]) == 1,
                      f"{label}/{sc}: one '{output}' entry of target {t}")
        joint = [e for e in j["sensitivity"] if e["scenario"] == sc and e["target"] is None]
        check(len(joint) == (1 if len(targets) > 1 else 0),
              f"{label}/{sc}: {len(joint)} entries of all targets together")
        check(all(e["output"] == "met" for e in joint), f"{label}/{sc}: the joint output is 'met'")
    for e in j["sensitivity"]:
        where = f"{label}/{e['scenario']}/{e['target']}/{e['output']}"
        check(e["scenario"] in scenario_names, f"{where}: a known scenario")
        check(e["output"] in ("met", "value"), f"{where}: output in met, value")
        check(e["target"] is None or e["target"] in targets, f"{where}: a target of the model")
        names = [f["name"] for f in e["factors"]]
        check(names == factors_of.get(e["scenario"]), f"{where}: the scenario's factors {names}")
        prefix, other = ("p_", "mean_") if e["output"] == "met" else ("mean_", "p_")
        for f in e["factors"]:
            fw = f"{where}/{f['name']}"
            keys = ["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
            keys += [prefix + t for t in ["low_third", "mid_third", "high_third"]]
            for key in keys:
                check(key in f, f"{fw}: key {key}")
                check(finite_or_null(f.get(key)), f"{fw}: {key} = {f.get(key)!r} is finite or null")
            check(not any(k.startswith(other) for k in f), f"{fw}: no {other}* keys")
            for idx in ["S1", "ST"]:
                lo, hi = f.get(idx + "_low"), f.get(idx + "_high")
                if lo is not None and hi is not None:
                    check(lo <= hi, f"{fw}: {idx}_low {lo} <= {idx}_high {hi}")
            if e["output"] == "met":
                for t in ["low_third", "mid_third", "high_third"]:
                    p = f.get("p_" + t)
                    check(p is None or 0 <= p <= 1, f"{fw}: p_{t} = {p} is a probability")
    for p in j["prim"]:
        check(p["scenario"] in scenario_names and p["target"] in targets, f"{label}: PRIM entry {p['target']}")


def case_every_model():
    runs = [(m, []) for m in sorted(glob.glob(os.path.join(root, "models/*.yaml")))]
    check(len(runs) >= 3, f"models/*.yaml: {len(runs)} models")
    guandu = os.path.join(root, "models/guandu_innovation.yaml")
    runs.append((guandu, ["--scenario", os.path.join(root, "scenarios/guandu/plan.yaml")]))
    runs.append((ishigami, []))
    # Two scenarios: one analysis each.
    runs.append((stochastic, ["--scenario", os.path.join(data, "stochastic_base.yaml"),
                              "--scenario", os.path.join(data, "stochastic_more.yaml")]))
    for model_path, extra in runs:
        label = " ".join(os.path.basename(x) for x in [model_path, *extra[1::2]])
        common = [model_path, *extra, "--rows", "256", "--resamples", "50", "--seed", "3"]
        j = run_json(common)
        if j is not None:
            check_layout(j, model_path, label)
            names = [s["scenario"] for s in j["scenarios"]]
            expected = {"plan.yaml": ["plan"], "stochastic_more.yaml": ["base", "more_funding"]}
            if extra:
                check(names == expected[os.path.basename(extra[-1])], f"{label}: scenarios {names}")
            else:
                check(len(names) == 1, f"{label}: one scenario without --scenario: {names}")
        r = run([model_path, *extra, "--rows", "64", "--resamples", "20"])
        check(r.returncode == 0, f"{label} (table): exit {r.returncode}, stderr: {r.stderr.strip()}")
        lines = r.stdout.splitlines()
        for t in target_names(model_path):
            check(any(line.startswith(t + " (") for line in lines), f"{label} (table): a line for target {t}")


def case_ishigami_analytic():
    j = run_json([ishigami, "--rows", "4096", "--seed", "1"])
    if j is None:
        return
    e = entry(j, "y", "value")
    if e is None:
        return
    s1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
    st = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
    factors = {f["name"]: f for f in e["factors"]}
    check(sorted(factors) == ["x1", "x2", "x3"], f"factors x1, x2, x3: {sorted(factors)}")
    for name in sorted(factors):
        f = factors[name]
        for idx, exact in [("S1", s1[name]), ("ST", st[name])]:
            lo, hi = f[idx + "_low"], f[idx + "_high"]
            check(lo is not None and hi is not None and lo <= exact <= hi,
                  f"{name}: {idx} = {f[idx]} [{lo}, {hi}] holds the analytic {exact}")
            check(f[idx] is not None and abs(f[idx] - exact) < 0.05,
                  f"{name}: {idx} = {f[idx]} within 0.05 of {exact}")
    # Var[y] = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2 = 13.8446; E[y] = 3.5.
    check(abs(e["mean"] - 3.5) < 0.1, f"mean {e['mean']} near 3.5")
    check(abs(e["variance"] - 13.8446) < 0.5, f"variance {e['variance']} near 13.84")


def case_reproducible():
    scenario = os.path.join(data, "stochastic_more.yaml")
    # The same relative --out in each run's own folder: the JSON names it.
    base = [stochastic, "--scenario", scenario, "--rows", "1024", "--resamples", "50", "--force-threads",
            "--json", "--out", "r.h5"]
    variants = {"threads1": ["--seed", "5", "--threads", "1"],
                "threads2": ["--seed", "5", "--threads", "2"],
                "block16": ["--seed", "5", "--threads", "2", "--block", "16"],
                "seed6": ["--seed", "6", "--threads", "2"]}
    with tempfile.TemporaryDirectory() as tmp:
        out, files = {}, {}
        for name, extra in variants.items():
            d = os.path.join(tmp, name)
            os.mkdir(d)
            r = run([*base, *extra], cwd=d)
            check(r.returncode == 0, f"{name}: exit {r.returncode}, stderr: {r.stderr.strip()}")
            if r.returncode != 0:
                return
            try:
                j = json.loads(r.stdout)
            except ValueError as e:
                check(False, f"{name}: the JSON does not parse: {e}")
                return
            check(any("seconds" in s for s in j["scenarios"]), f"{name}: seconds in the JSON")
            out[name] = json.dumps(strip_seconds(j), sort_keys=True)
            files[name] = os.path.join(d, "r.h5")
        check(out["threads1"] == out["threads2"], "JSON: --threads 1 and 2 agree")
        check(out["threads2"] == out["block16"], "JSON: --block 16 and the default agree")
        check(out["threads2"] != out["seed6"], "JSON: --seed 6 differs from --seed 5")
        ref = datasets(files["threads1"])
        check(any(n.startswith("sensitivity/") for n in ref), "the file holds /sensitivity")
        for name in ["threads2", "block16", "seed6"]:
            d = datasets(files[name])
            check(sorted(d) == sorted(ref), f"{name}: the same dataset names")
            differ = [n for n in ref if n in d and not same_array(ref[n], d[n])]
            if name == "seed6":
                check(any(n.endswith("/S1") for n in differ), f"{name}: S1 differs; differing: {differ}")
            else:
                check(not differ, f"{name}: datasets differ from --threads 1: {differ}")


def case_results_file():
    base, more = os.path.join(data, "stochastic_base.yaml"), os.path.join(data, "stochastic_more.yaml")
    check_results_file([base], ["base"])
    # Two scenarios write two groups under /sensitivity (fails as of a8a52c9: the second
    # scenario's write_sensitivity creates /sensitivity again, "cannot create group").
    check_results_file([base, more], ["base", "more_funding"])


def check_results_file(scenario_files, scenario_names):
    """`--json --out` with these scenarios: the file's /sensitivity groups hold the JSON's values."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "s.h5")
        args = [stochastic]
        for s in scenario_files:
            args += ["--scenario", s]
        j = run_json([*args, "--rows", "512", "--resamples", "50", "--seed", "9", "--out", out])
        if j is None:
            return
        check(j["output_file"] == out, f"output_file {j['output_file']}")
        check(sorted(os.listdir(tmp)) == ["s.h5"], f"only the output is left: {os.listdir(tmp)}")
        with h5py.File(out, "r") as f:
            check(f.attrs["analysis"] == "sensitivity", f"root attribute analysis = {f.attrs['analysis']}")
            check(f.attrs["filetype"] == "attain-results", "filetype")
            check(f.attrs["seed"] == 9, f"root attribute seed = {f.attrs['seed']}")
            check(f.attrs["model"] == j["model"], "root attribute model")
            scenarios = [s["scenario"] for s in j["scenarios"]]
            check(scenarios == scenario_names, f"scenarios {scenarios}")
            check("sensitivity" in f and sorted(f["sensitivity"]) == sorted(scenarios),
                  f"groups under /sensitivity: {sorted(f['sensitivity']) if 'sensitivity' in f else None}")
            for s in j["scenarios"]:
                sc = s["scenario"]
                if sc not in f.get("sensitivity", {}):
                    continue
                g = f["sensitivity"][sc]
                entries = [e for e in j["sensitivity"] if e["scenario"] == sc]
                factor_names = [x["name"] for x in s["factors"]]
                no, k = len(entries), len(factor_names)
                check(g.attrs["rows"] == 512 and g.attrs["rows"] == s["rows"], f"{sc}: attribute rows")
                check(g.attrs["runs"] == s["runs"] == 512 * (k + 2), f"{sc}: runs {g.attrs['runs']} = N (k + 2)")
                check(list(g["factor"].asstr()[()]) == factor_names, f"{sc}: factors")
                members = [m for x in s["factors"] for m in x["parameters"]]
                params = list(g["parameter"].asstr()[()])
                check(sorted(params) == sorted(members), f"{sc}: parameters {params}")
                check(list(g["factor_parameters"].asstr()[()]) == [",".join(x["parameters"]) for x in s["factors"]],
                      f"{sc}: factor_parameters")
                check(list(g["output_target"].asstr()[()]) == [e["target"] or "" for e in entries],
                      f"{sc}: output_target")
                check(list(g["output_kind"].asstr()[()]) == [e["output"] for e in entries], f"{sc}: output_kind")
                for key in ["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]:
                    check(g[key].shape == (no, k), f"{sc}: {key} shape {g[key].shape} = ({no}, {k})")
                    if g[key].shape != (no, k):
                        continue
                    values = g[key][()]
                    bad = [(o, x) for o, e in enumerate(entries) for x, fj in enumerate(e["factors"])
                           if not same_double(values[o, x], fj[key])]
                    check(not bad, f"{sc}: {key} differs from the JSON at (output, factor) {bad}")
                for key in ["mean", "variance"]:
                    check(all(same_double(v, e[key]) for v, e in zip(g[key][()], entries)) and len(g[key]) == no,
                          f"{sc}: {key}")
                nu = len(params)
                for key in ["third_runs", "third_value", "third_low", "third_high"]:
                    check(g[key].shape == (no, nu, 3), f"{sc}: {key} shape {g[key].shape} = ({no}, {nu}, 3)")
                if g["third_runs"].shape == (no, nu, 3):
                    runs, value = g["third_runs"][()], g["third_value"][()]
                    for o, e in enumerate(entries):
                        check([c["parameter"] for c in e["conditional"]] == params, f"{sc}: conditional order")
                        for q, c in enumerate(e["conditional"]):
                            check([t["runs"] for t in c["thirds"]] == list(runs[o, q]), f"{sc}: third runs {o} {q}")
                            check(all(same_double(value[o, q, t], c["thirds"][t]["value"]) for t in range(3)),
                                  f"{sc}: third values {o} {q}")
                        # A single parameter's factor carries its thirds in the JSON too.
                        prefix = "p_" if e["output"] == "met" else "mean_"
                        for fj in e["factors"]:
                            if fj["name"] in params:
                                q = params.index(fj["name"])
                                check(same_double(value[o, q, 0], fj[prefix + "low_third"]),
                                      f"{sc}: {fj['name']} low third")
                    # Each parameter's thirds hold the runs of A and B: 2N in all.
                    check(np.all(runs.sum(axis=2) == 2 * 512), f"{sc}: thirds add up to 2N runs")
                prim = [p for p in j["prim"] if p["scenario"] == sc]
                check(len(prim) == len(target_names(stochastic)), f"{sc}: a PRIM entry per target")
                check("prim" in g and sorted(g["prim"]) == sorted(p["target"] for p in prim),
                      f"{sc}: prim groups {sorted(g['prim']) if 'prim' in g else None}")
                for p in prim:
                    if "prim" not in g or p["target"] not in g["prim"]:
                        continue
                    tg = g["prim"][p["target"]]
                    check(tg.attrs["chosen"] == p["chosen"], f"{sc}/{p['target']}: chosen")
                    check(np.array_equal(tg["trajectory_density"][()], [b["density"] for b in p["trajectory"]]),
                          f"{sc}/{p['target']}: trajectory_density")
                    check(list(tg["restricted"].asstr()[()]) == [d["parameter"] for d in p["restricted"]],
                          f"{sc}/{p['target']}: restricted")
                    check(list(tg["quasi_p"][()]) == [d["quasi_p"] for d in p["restricted"]],
                          f"{sc}/{p['target']}: quasi_p")
                    if "box" in p:
                        check(tg.attrs["density"] == p["box"]["density"], f"{sc}/{p['target']}: box density")
        # nlohmann/json prints doubles so that they read back exactly: check on values
        # that need all 17 digits.
        values = [v for e in j["sensitivity"] for fj in e["factors"] for v in (fj["S1"], fj["ST"]) if v is not None]
        check(len(values) > 10 and all(float(repr(v)) == v for v in values), "JSON doubles round-trip")
        check(any(len(repr(abs(v))) >= 17 for v in values), "some index needs 17 significant digits")


def expect_error(args, what, tmp, prefix="attain: error:"):
    out = os.path.join(tmp, "e.h5")
    rows = [] if "--rows" in args or "--runs" in args else ["--rows", "64"]
    r = run([*args, *rows, "--out", out])
    lines = r.stderr.splitlines()
    check(r.returncode == 2, f"{what}: exit {r.returncode}, expected 2; stderr: {r.stderr.strip()}")
    check(len(lines) == 1 and r.stderr.endswith("\n"), f"{what}: one line on stderr, got {r.stderr!r}")
    check(bool(lines) and lines[0].startswith(prefix), f"{what}: {prefix!r} first: {lines[:1]}")
    check(not any(s in r.stderr for s in ["internal error", "terminate called", "what():"]), f"{what}: no crash")
    check(r.stdout == "", f"{what}: nothing on stdout, got {r.stdout[:200]!r}")
    left = os.listdir(tmp)
    check(not left, f"{what}: files left behind: {left}")
    for name in left:
        os.remove(os.path.join(tmp, name))
    return lines[0] if lines else ""


def case_errors():
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ([stochastic, "--factor", "growth"], "--factor without '='", "NAME=PARAMETER"),
            ([stochastic, "--factor", "=g,y"], "--factor without a name", "NAME=PARAMETER"),
            ([stochastic, "--factor", "both=g,"], "--factor with an empty name", "empty parameter name"),
            ([stochastic, "--factor", "x=nosuch"], "--factor naming an unknown parameter", "nosuch"),
            ([stochastic, "--factor", "x=funding"], "--factor naming a lever", "funding"),
            ([stochastic, "--factor", "growth=g"], "--factor splitting a correlation group", "correlated"),
            ([stochastic, "--factor", "a=g,y", "--factor", "b=y"], "a parameter in two --factor", "already"),
            ([stochastic, "--sampling", "foo"], "--sampling foo", "--sampling"),
            ([stochastic, "--resamples", "1"], "--resamples 1", "--resamples"),
            ([stochastic, "--rows", "1"], "--rows 1", "--rows"),
            ([stochastic, "--rows", "64", "--runs", "64"], "--rows and --runs both", "--runs"),
            ([stochastic, "--prim-coverage", "2"], "--prim-coverage 2", "--prim-coverage"),
            ([stochastic, "--prim-alpha", "0.5"], "--prim-alpha 0.5", "--prim-alpha"),
            ([stochastic, "--top", "0"], "--top 0", "--top"),
        ]
        for args, what, text in cases:
            line = expect_error(args, what, tmp)
            check(text in line, f"{what}: the message names {text!r}: {line!r}")
        # A file error has the form of every file error: FILE:LINE:COL: error: TEXT.
        missing = os.path.join(tmp, "missing.yaml")
        line = expect_error([missing], "a missing model file", tmp, prefix=missing + ":1:1: error:")
        check("cannot open" in line, f"a missing model file: {line!r}")


def case_factor_grouping():
    common = [stochastic, "--rows", "128", "--resamples", "20", "--prim-rows", "0"]
    j = run_json(common)
    if j is not None:
        fs = j["scenarios"][0]["factors"]
        names = [f["name"] for f in fs]
        check(len(fs) == 2, f"two factors (the correlated pair and the shocks): {names}")
        pair = [f for f in fs if sorted(f["parameters"]) == ["g", "y"]]
        check(len(pair) == 1 and pair[0]["kind"] == "correlation group", f"g and y are one factor: {fs}")
        check(bool(pair) and "g" in pair[0]["name"] and "y" in pair[0]["name"], f"its name names both: {names}")
        shocks = [f for f in fs if f["name"] == "year-to-year randomness"]
        check(len(shocks) == 1 and shocks[0]["kind"] == "shocks" and shocks[0]["parameters"] == [],
              f"the shocks factor: {fs}")
        check(j["prim"] == [], "--prim-rows 0: no PRIM")
        for e in j["sensitivity"]:
            for f in e["factors"]:
                keys = [k for k in f if k.endswith("_third")]
                check(keys and all(f[k] is None for k in keys), f"{f['name']}: a group's thirds are null in 'factors'")
            check(sorted(c["parameter"] for c in e["conditional"]) == ["g", "y"], "conditional thirds of g and y")
        r = run(common)
        check(r.returncode == 0 and "(2 parameters)" in r.stdout and "\n    g " in r.stdout
              and "\n    y " in r.stdout, f"the table lists the group's members: {r.stdout}")
    j = run_json([*common, "--factor", "both=g,y"])
    if j is not None:
        fs = j["scenarios"][0]["factors"]
        names = [f["name"] for f in fs]
        check(names == ["both", "year-to-year randomness"], f"factors {names}")
        check(fs[0]["parameters"] == ["g", "y"] and fs[0]["kind"] == "--factor", f"the factor 'both': {fs[0]}")
        check(all([f["name"] for f in e["factors"]] == names for e in j["sensitivity"]), "every entry's factors")
    j = run_json([ishigami, "--rows", "1024", "--resamples", "50", "--factor", "x=x1,x3"])
    if j is not None:
        fs = j["scenarios"][0]["factors"]
        check([(f["name"], f["parameters"]) for f in fs] == [("x", ["x1", "x3"]), ("x2", ["x2"])],
              f"ishigami --factor x=x1,x3: {fs}")
        check(not any(f["name"] == "year-to-year randomness" for f in fs), "no shocks factor without shocks")
        # Of {x1, x3} together: S1 = S_1 + S_3 + S_13 = 0.3139 + 0 + 0.2437 = 0.5576, and ST
        # the same (x3 interacts with x1 only); x2 stays 0.4424 for both.
        e = entry(j, "y", "value")
        if e is not None:
            for f, exact in zip(e["factors"], [0.5576, 0.4424]):
                for idx in ["S1", "ST"]:
                    lo, hi = f[idx + "_low"], f[idx + "_high"]
                    check(lo is not None and hi is not None and lo <= exact <= hi,
                          f"--factor x=x1,x3: {f['name']}: {idx} = {f[idx]} [{lo}, {hi}] holds {exact}")


PRIM_MODEL = """\
# Met only where a > 0.7 and b < 0.3; c and d do not matter.
model: prim_box
description: A model whose target is met in one box of its parameters.
time: {start: 2020, end: 2021}
parameters:
  a: {label: a, unit: "1", description: a, source: test, dist: uniform, min: 0, max: 1}
  b: {label: b, unit: "1", description: b, source: test, dist: uniform, min: 0, max: 1}
  c: {label: c, unit: "1", description: c, source: test, dist: uniform, min: 0, max: 1}
  d: {label: d, unit: "1", description: d, source: test, dist: uniform, min: 0, max: 1}
auxiliaries:
  z:
    label: z
    unit: "1"
    description: 1 in the box a > 0.7 and b < 0.3, else 0.
    formula: if(a > 0.7 and b < 0.3, 1, 0) + 0 * c * d
targets:
  - {name: in_box, node: z, op: ">=", threshold: 0.5, label: in the box, source: test}
"""


def case_prim_box():
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "prim_box.yaml")
        with open(model, "w", encoding="utf-8") as f:
            f.write(PRIM_MODEL)
        j = run_json([model, "--rows", "4096", "--resamples", "50"])
        if j is None:
            return
        prim = [p for p in j["prim"] if p["target"] == "in_box"]
        check(len(prim) == 1, f"one PRIM entry for in_box: {len(prim)}")
        if not prim:
            return
        p = prim[0]
        check(p["reason"] is None and "box" in p, f"a box was found: reason {p['reason']}")
        strong = {d["parameter"]: d for d in p["restricted"] if d["quasi_p"] < 0.05}
        check(sorted(strong) == ["a", "b"], f"restricted with quasi-p < 0.05: {p['restricted']}")
        a, b = strong.get("a"), strong.get("b")
        check(a is not None and a["lower"] is not None and abs(a["lower"] - 0.7) <= 0.03 and a["upper"] is None,
              f"a >= 0.7: {a}")
        check(b is not None and b["upper"] is not None and abs(b["upper"] - 0.3) <= 0.03 and b["lower"] is None,
              f"b <= 0.3: {b}")
        box = p.get("box", {})
        check(box.get("density", 0) > 0.9, f"box density {box.get('density')}")
        check(box.get("coverage", 0) > 0.5, f"box coverage {box.get('coverage')}")
        check(abs(box.get("mass", 0) - 0.09) < 0.02, f"box mass {box.get('mass')} near 0.3 * 0.3")
        if a is not None and b is not None and a["lower"] is not None and b["upper"] is not None:
            words = f"a >= {a['lower']:.4g} and b <= {b['upper']:.4g}"
            check(box.get("in_words") == words, f"in words: {box.get('in_words')!r}, expected {words!r}")
        # The met indicator: P = 0.09; a and b decide it, c and d not at all.
        e = entry(j, "in_box", "met")
        if e is not None:
            check(abs(e["mean"] - 0.09) < 0.01, f"P(met) {e['mean']} near 0.09")
            st = {f["name"]: f["ST"] for f in e["factors"]}
            check(all(st[n] is not None and abs(st[n]) < 0.01 for n in ["c", "d"]), f"ST of c and d near 0: {st}")
            check(all(st[n] is not None and st[n] > 0.3 for n in ["a", "b"]), f"ST of a and b large: {st}")
        r = run([model, "--rows", "1024", "--resamples", "20"])
        check(r.returncode == 0 and "scenario discovery (PRIM): met in" in r.stdout,
              f"the table describes the box: {r.stdout}")


def case_given_data():
    """--given-data on the stored rows of an ordinary run: Ishigami's analytic S1, errors."""
    with tempfile.TemporaryDirectory() as tmp:
        h5 = os.path.join(tmp, "ish.h5")
        r = subprocess.run([attain, "run", ishigami, "--runs", "100000", "--out", h5, "--quiet"],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"attain run --out: {r.stderr.strip()}")
        j = run_json([ishigami, "--given-data", h5])
        if j is None:
            return
        value = [e for e in j["sensitivity"] if e["output"] == "value"]
        check(len(value) == 1, "one value entry")
        truth = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
        for f in value[0]["factors"] if value else []:
            if f["name"] not in truth:
                check(False, f"given-data factor {f['name']} is not an uncertain parameter")
                continue
            # Binning smooths E[y | x]: 0.01 beyond the interval at most.
            t = truth[f["name"]]
            check(f["S1_low"] - 0.01 <= t <= f["S1_high"] + 0.01,
                  f"given-data S1 of {f['name']}: {f['S1']} [{f['S1_low']}, {f['S1_high']}] vs {t}")
            check(f["ST"] is None, "given data has no total index")
        names = sorted(f["name"] for f in value[0]["factors"]) if value else []
        check(names == ["x1", "x2", "x3"], f"fixed parameters a and b are left out: {names}")
        table = run([ishigami, "--given-data", h5])
        check(table.returncode == 0 and "given-data first-order indices" in table.stdout,
              "the table names the method")
        # Errors: a summary-only file, another model's file, a file that is not HDF5.
        summary = os.path.join(tmp, "summary.h5")
        subprocess.run([attain, "run", ishigami, "--runs", "1000", "--store", "summary",
                        "--out", summary, "--quiet"], check=True, capture_output=True)
        for args, what in [
            ([ishigami, "--given-data", summary], "--store summary"),
            ([os.path.join(root, "models/teaching_firms.yaml"), "--given-data", h5],
             "model mismatch"),
            ([ishigami, "--given-data", ishigami], "not HDF5"),
            ([ishigami, "--given-data", os.path.join(tmp, "none.h5")], "missing file"),
            ([ishigami, "--given-data", h5, "--out", os.path.join(tmp, "x.h5")], "--out"),
        ]:
            r = run(args)
            check(r.returncode == 2 and r.stderr.startswith("attain: error: --given-data")
                  and len(r.stderr.splitlines()) == 1,
                  f"{what}: exit {r.returncode}, stderr {r.stderr!r}")
        check(not os.path.exists(os.path.join(tmp, "x.h5")), "no file written with --out")


cases = {
    "every_model": case_every_model,
    "ishigami_analytic": case_ishigami_analytic,
    "reproducible": case_reproducible,
    "results_file": case_results_file,
    "errors": case_errors,
    "factor_grouping": case_factor_grouping,
    "prim_box": case_prim_box,
    "given_data": case_given_data,
}
if case not in cases:
    sys.exit(f"unknown case '{case}'; valid: {', '.join(cases)}")
cases[case]()
finish(case)
