"""Reads attain's results file as NetCDF-4 (docs/results-format.md, layout 2.0).

Usage: /usr/bin/python3 netcdf_test.py ATTAIN_BINARY REPO_ROOT
Opens the groups of run, compare, sweep, search and sensitivity files with xarray
(engines h5netcdf and netcdf4, no options), checks the named dimensions and their
coordinates against the model, turns them into pandas tables, and runs `ncdump -h`. A
model with as many parameters as time steps (P = S) must get distinct dimensions.
The examples of docs/results-format.md are run as written.
"""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import xarray as xr

from checks import check, finish  # tests/cli/checks.py

attain, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
data = os.path.join(root, "tests/data")



def run(*args):
    subprocess.run([attain, *args, "--quiet"], check=True, stdout=subprocess.DEVNULL)


# Three parameters and three time steps: P = S.
P_EQUALS_S = """model: p_equals_s
description: Three uncertain parameters on a time axis of three steps (P = S).
time: {start: 2018, end: 2020}
parameters:
  p1: {label: 参数一 (p1), unit: "1", description: d, source: "assumption: test", dist: uniform, min: 0, max: 1}
  p2: {label: p2, unit: "1", description: d, source: "assumption: test", dist: uniform, min: 0, max: 1}
  p3: {label: p3, unit: "1", description: d, source: "assumption: test", dist: uniform, min: 0, max: 1}
auxiliaries:
  y: {label: y, unit: "1", description: the sum, formula: p1 + p2 + p3}
targets:
  - {name: y_high, node: y, op: ">=", threshold: 1.5, label: y at least 1.5, source: test}
"""

with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "p_equals_s.yaml")
    with open(model, "w") as f:
        f.write(P_EQUALS_S)
    pfile = os.path.join(tmp, "p.h5")
    run("run", model, "--runs", "1000", "--store", "full", "--out", pfile)
    for engine in ["h5netcdf", "netcdf4"]:
        ds = xr.open_dataset(pfile, group="scenarios/default", engine=engine)
        check(ds["parameters"].dims == ("run", "parameter"), f"{engine}: parameters dims {ds['parameters'].dims}")
        check(ds["values"].dims == ("run", "time", "node"), f"{engine}: values dims {ds['values'].dims}")
        check(ds.sizes["parameter"] == ds.sizes["time"] == 3, f"{engine}: P = S = 3")
        check(list(ds["parameter"].values) == ["p1", "p2", "p3"], f"{engine}: parameter coordinate")
        check(list(ds["time"].values) == [2018.0, 2019.0, 2020.0], f"{engine}: time coordinate")
        # The drawn p1 of each run is node p1 at every step.
        check(np.array_equal(ds["parameters"].sel(parameter="p1").values,
                             ds["values"].sel(node="p1", time=2019.0).values), f"{engine}: p1 by label")
        m = xr.open_dataset(pfile, group="model", engine=engine)
        check(list(m["node_label"].values)[0] == "参数一 (p1)", f"{engine}: UTF-8 labels")

    # A run of two scenarios with per-run rows, and the other analyses.
    model = os.path.join(data, "stochastic.yaml")
    scen = [os.path.join(data, "stochastic_base.yaml"), os.path.join(data, "stochastic_more.yaml")]
    rfile, cfile = os.path.join(tmp, "r.h5"), os.path.join(tmp, "c.h5")
    run("run", model, "--scenario", scen[0], "--scenario", scen[1], "--runs", "3000", "--store", "full",
        "--out", rfile)
    run("compare", model, "--scenario", scen[0], "--scenario", scen[1], "--runs", "3000", "--out", cfile)
    swfile, sefile, snfile = (os.path.join(tmp, n) for n in ["sw.h5", "se.h5", "sn.h5"])
    run("sweep", model, "--lever", "funding=1:1.5:3", "--runs", "2000", "--out", swfile)
    run("search", model, "--lever", "funding", "--target", "firms", "--probability", "0.5", "--runs", "2000",
        "--out", sefile)
    run("sensitivity", model, "--rows", "256", "--resamples", "20", "--prim-rows", "256", "--out", snfile)

    import h5py
    with h5py.File(rfile) as f:
        nodes = list(f["model/node"].asstr()[()])
        targets = ["gdp", "firms"]  # unnamed targets are named by their node
        times = list(f["model/time"][()])
    for engine in ["h5netcdf", "netcdf4"]:
        ds = xr.open_dataset(rfile, group="scenarios/more_funding", engine=engine)
        want = {"target": 2, "node": len(nodes), "time": len(times), "quantile": 5, "run": 3000}
        for dim, n in want.items():
            check(ds.sizes.get(dim) == n, f"{engine}: dimension {dim} = {ds.sizes.get(dim)}, want {n}")
        check(not [d for d in ds.dims if d.startswith("phony_dim")], f"{engine}: no phony dimensions {list(ds.dims)}")
        check(list(ds["target"].values) == targets, f"{engine}: target coordinate {list(ds['target'].values)}")
        check(list(ds["node"].values) == nodes, f"{engine}: node coordinate")
        check(list(ds["quantile"].values) == [0.05, 0.25, 0.5, 0.75, 0.95], f"{engine}: quantile coordinate")
        check(np.array_equal(ds["run"].values, np.arange(3000)), f"{engine}: run coordinate")
        check(ds["quantiles"].dims == ("node", "time", "quantile"), f"{engine}: quantiles dims")
        check(ds["first_met"].dims == ("target", "time"), f"{engine}: first_met dims")
        check(ds["target_values"].dims == ("run", "target"), f"{engine}: target_values dims")
        for name, var in ds.data_vars.items():
            check("long_name" in var.attrs, f"{engine}: {name} has a long_name")
        check(ds["probability"].attrs.get("units") == "1" and ds["time"].attrs.get("units") == "year",
              f"{engine}: units")
        # Counts are f64 holding exact integers.
        check(ds["hits"].dtype == np.float64 and np.all(ds["hits"].values == np.round(ds["hits"].values)),
              f"{engine}: hits f64 integers")
        check(np.allclose(ds["probability"].values, ds["hits"].values / ds["runs"].values, rtol=0, atol=0),
              f"{engine}: probability = hits / runs")
        check(ds.attrs["name"] == "more_funding", f"{engine}: group attributes")
        median = ds["quantiles"].sel(node="firms", quantile=0.5, time=times[-1]).item()
        exact = np.median(ds["values"].sel(node="firms", time=times[-1]).values)
        check(abs(median - exact) <= abs(exact) * 2 ** -8 + 1, f"{engine}: median by label {median} vs {exact}")
    for engine in ["h5netcdf", "netcdf4"]:
        c = xr.open_dataset(cfile, group="comparisons/more_funding", engine=engine)
        check(list(c["target"].values) == targets + ["all targets"], f"{engine}: comparison target coordinate")
        check(c["difference"].dims == ("target",), f"{engine}: comparison dims")
        s = xr.open_dataset(swfile, group="sweep", engine=engine)
        check(s["probability"].dims == ("point", "target") and s.sizes["point"] == 3, f"{engine}: sweep dims")
        check(s["levels"].dims == ("point", "lever") and list(s["lever"].values) == ["funding"],
              f"{engine}: sweep levers")
        q = xr.open_dataset(sefile, group="search", engine=engine)
        check(q["probability"].dims == ("evaluation",) and np.all(np.diff(q["level"].values) > 0),
              f"{engine}: search evaluations")
        n = xr.open_dataset(snfile, group="sensitivity/default", engine=engine)
        check(n["ST"].dims == ("output", "factor") and n["third_value"].dims == ("output", "parameter", "third"),
              f"{engine}: sensitivity dims")
        check(list(n["third"].values) == ["lower", "middle", "upper"], f"{engine}: thirds")
        check(not [d for ds_ in (c, s, q, n) for d in ds_.dims if d.startswith("phony_dim")],
              f"{engine}: no phony dimensions in comparison, sweep, search, sensitivity")

    # pandas, through xarray: a tidy table of P per scenario and target.
    frames = []
    for sc in ["base", "more_funding"]:
        ds = xr.open_dataset(rfile, group=f"scenarios/{sc}", engine="h5netcdf")
        frames.append(ds[["probability", "ci_low", "ci_high", "target_label"]].to_dataframe().assign(scenario=sc))
    table = pd.concat(frames).reset_index()
    check(list(table.columns[:2]) == ["target", "probability"] and len(table) == 4, f"pandas table {table.columns}")
    check("高新技术企业达到80个" in set(table["target_label"]), "pandas: Chinese labels intact")

    # ncdump -h names every dimension.
    for path in [rfile, cfile, swfile, sefile, snfile, pfile]:
        r = subprocess.run(["ncdump", "-h", path], capture_output=True, text=True)
        check(r.returncode == 0, f"ncdump -h {os.path.basename(path)}: {r.stderr.strip()}")
        if path == rfile:
            for dim in ["target = 2", "node = ", "time = ", "quantile = 5", "run = UNLIMITED", "parameter = "]:
                check(dim in r.stdout, f"ncdump shows '{dim}'")
            check("double probability(target)" in r.stdout and "double values(run, time, node)" in r.stdout,
                  "ncdump shows variables with named dimensions")

    # The examples in docs/results-format.md, as written there (FILE.h5 replaced).
    doc = open(os.path.join(root, "docs/results-format.md"), encoding="utf-8").read()
    examples = re.findall(r"```python\n(.*?)```", doc, re.S)
    check(len(examples) >= 2, f"docs/results-format.md has python examples ({len(examples)})")
    for i, code in enumerate(examples):
        code = code.replace('"results.h5"', repr(rfile))
        r = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, cwd=tmp)
        check(r.returncode == 0, f"docs example {i + 1} runs: {r.stderr[-800:]}")

finish()
