#!/usr/bin/env python3
"""Sobol indices of the Guandu model's targets, the way a researcher does it today around
a numpy model: a peer of `attain sensitivity` (SALib-style, written out by hand because
SALib is not installable here).

* Design (Saltelli 2010): matrices A and B of N rows, each row the uniforms of the 43
  parameters; with `--sampling sobol` (default) A and B are the two halves of one
  scrambled 86-dimensional Sobol sequence (scipy.stats.qmc.Sobol), with `random` numpy
  uniforms. Parameter values by parameters_from_uniforms() of guandu_numpy.py (inverse
  PERT CDFs, Gaussian copula for the correlation groups), for A and B once; AB_j is A with
  factor j's columns taken from B (a swap of parameter values: the transform works factor
  by factor, so this is the same as transforming AB_j's uniforms).
* Factors as attain forms them: each uncorrelated parameter alone (35), each correlation
  group as one factor (3), and the year-to-year randomness (every shock of every step)
  as one: A and B have their own shock uniforms (numpy, 48 a run: 12 shocks x 4 steps),
  turned into shocks by inverse CDFs (scipy.stats ppf) so that A and AB_j share them
  (common random numbers); AB_shocks takes B's. k = 39, N (k + 2) model runs.
* Outputs: each target's met indicator (14) and all targets together (joint).
* Indices as SALib.analyze.sobol with calc_second_order=False: S1 = mean(f_B (f_ABj -
  f_A)) / V (Saltelli 2010), ST = mean((f_A - f_ABj)^2) / 2V (Jansen 1999), V the variance
  of f over A and B together; bootstrap over rows (100 resamples by default, SALib's
  num_resamples), vectorised over resamples: SALib's interval (value +- 1.96 sd of the
  replicates) and the 95 % percentile interval (what attain reports).

    /usr/bin/python3 bench/peers/guandu_sobol_numpy.py --rows 16384 scenarios/guandu/plan.yaml
    /usr/bin/python3 bench/peers/guandu_sobol_numpy.py --rows 4096 --attain attain.json \\
        scenarios/guandu/plan.yaml    # side by side with `attain sensitivity --json`

Prints JSON: runs, seconds (design, model, analysis, total), the indices of a few targets
(`--targets`, or `--all`).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guandu_numpy as g  # noqa: E402  (the model, its tables and the scenario reader)

from scipy.stats import qmc  # noqa: E402

SHOCK_DRAWS = len(g.SHOCKS) * len(g.YEARS)   # uniforms per run: 12 shocks x 4 steps


def factors():
    """[(name, [parameters])], ordered by the first parameter's position; the shocks last
    (parameters []), as attain's sensitivity_factors()."""
    grouped = {}
    for names, _ in g.CORRELATIONS:
        for name in names:
            grouped[name] = names
    out, seen = [], set()
    for name in g.PERT:
        if name in seen:
            continue
        members = grouped.get(name, [name])
        seen.update(members)
        out.append(("+".join(members) if len(members) > 1 else name, list(members)))
    out.append(("year-to-year randomness", []))
    return out


def evaluate(levers, q, shock_u):
    """met (n x (targets + 1)) of one matrix: every target's indicator, then the joint."""
    n = shock_u.shape[0]
    final = g.simulate(levers, q, g.UniformShocks(shock_u), n)
    met = np.empty((n, len(g.TARGETS) + 1), dtype=bool)
    for i, (_, node, threshold) in enumerate(g.TARGETS):
        met[:, i] = final[node] >= threshold
    met[:, -1] = met[:, :-1].all(axis=1)
    return met


def sobol_analyze(y, resamples, rng, conf_z=1.959963984540054):
    """SALib.analyze.sobol (calc_second_order=False) for one output.

    y: (k + 2, N): f(A), f(B), f(AB_1..k). Returns arrays of k: S1, S1_conf, S1 lo, hi,
    ST, ST_conf, ST lo, hi (conf: SALib's half-width, lo/hi: percentile interval).
    """
    a, b, ab = y[0], y[1], y[2:]
    k, n = ab.shape
    out = {key: np.full(k, np.nan) for key in
           ("S1", "S1_conf", "S1_lo", "S1_hi", "ST", "ST_conf", "ST_lo", "ST_hi")}
    v = np.var(np.concatenate([a, b]))
    if v == 0:
        return out
    r = rng.integers(n, size=(n, resamples))        # as SALib: rows drawn with replacement
    ar, br = a[r], b[r]                                  # (N, resamples)
    vr = np.var(np.concatenate([ar, br]), axis=0)        # (resamples,)
    vr[vr == 0] = np.nan
    for j in range(k):
        d = ab[j] - a
        out["S1"][j] = np.mean(b * d) / v
        out["ST"][j] = 0.5 * np.mean(d * d) / v
        dr = d[r]
        s1 = np.mean(br * dr, axis=0) / vr
        st = 0.5 * np.mean(dr * dr, axis=0) / vr
        out["S1_conf"][j] = conf_z * np.nanstd(s1, ddof=1)
        out["ST_conf"][j] = conf_z * np.nanstd(st, ddof=1)
        out["S1_lo"][j], out["S1_hi"][j] = np.nanpercentile(s1, [2.5, 97.5])
        out["ST_lo"][j], out["ST_hi"][j] = np.nanpercentile(st, [2.5, 97.5])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", help="scenario file (YAML)")
    ap.add_argument("--rows", type=int, default=16384, help="N base rows (default 16384)")
    ap.add_argument("--resamples", type=int, default=100,
                    help="bootstrap resamples (default 100, SALib's num_resamples)")
    ap.add_argument("--sampling", choices=["sobol", "random"], default="sobol")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--targets", default="t03_high_tech_enterprises,t05_tech_services_revenue,"
                    "t08_scientific_literacy",
                    help="comma-separated targets whose indices are printed ('joint' for all "
                         "together)")
    ap.add_argument("--all", action="store_true", help="print the indices of every output")
    ap.add_argument("--top", type=int, default=5, help="factors per output, by ST (default 5)")
    ap.add_argument("--attain", metavar="JSON",
                    help="`attain sensitivity --json` output: add its indices of the same "
                         "outputs and factors")
    args = ap.parse_args()
    if args.rows < 2:
        ap.error("--rows must be at least 2")

    _, levers = g.load_scenario(args.scenario)
    fac = factors()
    k = len(fac)
    npar = len(g.PERT)
    n = args.rows
    rng = np.random.default_rng(args.seed)

    t0 = time.perf_counter()
    if args.sampling == "sobol":
        u = qmc.Sobol(d=2 * npar, scramble=True, seed=rng).random(n)
    else:
        u = rng.random((n, 2 * npar))
    qa = g.parameters_from_uniforms(u[:, :npar])
    qb = g.parameters_from_uniforms(u[:, npar:])
    shock_a = rng.random((n, SHOCK_DRAWS))
    shock_b = rng.random((n, SHOCK_DRAWS))
    for s in (shock_a, shock_b):
        s[s == 0] = 2.0 ** -54          # ppf(0) is -1 in scipy; (0, 1) it is
    t1 = time.perf_counter()

    outputs = [name for name, _, _ in g.TARGETS] + ["joint"]
    y = np.empty((k + 2, n, len(outputs)), dtype=bool)
    y[0] = evaluate(levers, qa, shock_a)
    y[1] = evaluate(levers, qb, shock_b)
    for j, (_, members) in enumerate(fac):
        if members:
            q = dict(qa)
            for name in members:
                q[name] = qb[name]
            y[2 + j] = evaluate(levers, q, shock_a)
        else:
            y[2 + j] = evaluate(levers, qa, shock_b)
    t2 = time.perf_counter()

    yf = y.astype(np.float64)
    results = {}
    for o, name in enumerate(outputs):
        results[name] = sobol_analyze(yf[:, :, o], args.resamples, rng)
    t3 = time.perf_counter()

    attain = None
    if args.attain:
        with open(args.attain, encoding="utf-8") as f:
            attain = json.load(f)

    wanted = outputs if args.all else [t.strip() for t in args.targets.split(",") if t.strip()]
    shown = []
    for name in wanted:
        if name not in results:
            sys.exit(f"guandu_sobol_numpy.py: error: no output '{name}'")
        o = outputs.index(name)
        res = results[name]
        p = float(y[:2, :, o].mean())
        order = np.argsort(-np.nan_to_num(res["ST"], nan=-1))[:args.top]
        entry = {"output": name, "p": p, "factors": []}
        for j in order:
            f = {"factor": fac[j][0],
                 "S1": res["S1"][j], "S1_conf": res["S1_conf"][j],
                 "S1_interval": [res["S1_lo"][j], res["S1_hi"][j]],
                 "ST": res["ST"][j], "ST_conf": res["ST_conf"][j],
                 "ST_interval": [res["ST_lo"][j], res["ST_hi"][j]]}
            if attain is not None:
                f["attain"] = attain_factor(attain, name, fac[j][1])
            entry["factors"].append(f)
        shown.append(entry)

    widths = np.concatenate([results[o]["ST_hi"] - results[o]["ST_lo"] for o in outputs])
    widths = widths[np.isfinite(widths)]
    doc = {
        "peer": "guandu_sobol_numpy", "rows": n, "factors": k, "runs": n * (k + 2),
        "outputs": len(outputs), "resamples": args.resamples, "sampling": args.sampling,
        "seed": args.seed, "numpy": np.__version__,
        "seconds": {"design": t1 - t0, "model": t2 - t1, "analysis": t3 - t2,
                    "total": t3 - t0},
        "st_percentile_width": {"mean": float(widths.mean()) if widths.size else None,
                                "max": float(widths.max()) if widths.size else None},
        "indices": shown,
    }
    json.dump(finite(doc), sys.stdout, indent=1)
    print()


def finite(x):
    """x with numpy numbers as floats and NaN as null (strict JSON)."""
    if isinstance(x, dict):
        return {key: finite(v) for key, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def attain_factor(doc, output, members):
    """attain's S1 and ST with their intervals for one met output and factor, from
    `attain sensitivity --json` (the first scenario), the factor matched by its
    parameters (the shocks: the factor without any)."""
    scen = doc["scenarios"][0]
    name = None
    for f in scen["factors"]:
        if sorted(f["parameters"]) == sorted(members):
            name = f["name"]
    for out in doc["sensitivity"]:
        if out["scenario"] != scen["scenario"] or out["output"] != "met":
            continue
        if out["target"] != (None if output == "joint" else output):
            continue
        for f in out["factors"]:
            if f["name"] == name:
                return {"S1": f["S1"], "S1_interval": [f["S1_low"], f["S1_high"]],
                        "ST": f["ST"], "ST_interval": [f["ST_low"], f["ST_high"]]}
    return None


if __name__ == "__main__":
    main()
