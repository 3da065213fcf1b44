"""attain under mpirun (an ATTAIN_MPI build): the file of K ranks equals one process's file.

Usage: /usr/bin/python3 mpi_test.py ATTAIN_MPI_BINARY REPO_ROOT CASE
CASE: run, compare, sweep, search, sensitivity (each on 1, 2 and 3 ranks, oversubscribed, against
the same binary without mpirun, every dataset and attribute compared with h5py except the wall
times `seconds` and `created`) or errors (a run with a non-finite value on rank 2, bad input, an
unwritable output, one rank failing alone: the same exit code as one process, one message, no
rank left waiting).
"""
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from checks import check, finish  # tests/cli/checks.py

attain, root, case = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
model = os.path.join(root, "tests/data/stochastic.yaml")
base = os.path.join(root, "tests/data/stochastic_base.yaml")
more = os.path.join(root, "tests/data/stochastic_more.yaml")
teaching = os.path.join(root, "models/teaching_firms.yaml")
timeout = 300  # seconds: a rank left waiting fails the test instead of hanging it
wall_times = {"seconds", "created"}


def mpirun(k):
    """Open MPI as root (--allow-run-as-root), more ranks than cores (--oversubscribe), and
    without mpirun's own notes on a non-zero exit (-q): stderr is then attain's alone."""
    return ["mpirun", "-q", "--allow-run-as-root", "--oversubscribe", "-np", str(k)]


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def contents(path):
    """Every dataset's values and every attribute of every object, by path."""
    out = {}

    def value(v):
        a = np.asarray(v)
        return ("O", [x.decode() if isinstance(x, bytes) else x for x in a.ravel()]) \
            if a.dtype.kind in "OSU" else (a.dtype.str, a.shape, a.tobytes())

    def visit(name, obj):
        for key, v in obj.attrs.items():
            if key in wall_times or key in ("REFERENCE_LIST", "DIMENSION_LIST"):
                continue
            out[f"{name}@{key}"] = value(v)
        if isinstance(obj, h5py.Dataset):
            out[name] = value(obj[()])

    with h5py.File(path, "r") as f:
        visit("/", f)
        f.visititems(visit)
    return out


def same_files(reference, other, what):
    a, b = contents(reference), contents(other)
    check(len(a) > 20, f"{what}: the reference file has {len(a)} datasets and attributes")
    check(sorted(a) == sorted(b), f"{what}: the same datasets and attributes "
                                  f"(only one side: {sorted(set(a) ^ set(b))[:5]})")
    differ = [k for k in a if k in b and a[k] != b[k]]
    check(not differ, f"{what}: equal values, except {differ[:5]}")


def verb_case(tmp, args):
    serial = os.path.join(tmp, "one.h5")
    r = run([attain, *args, "--out", serial, "--quiet"])
    if not check(r.returncode == 0, f"one process: {r.returncode} {r.stderr}"):
        return
    printed = r.stdout
    for k in (1, 2, 3):
        out = os.path.join(tmp, f"ranks{k}.h5")
        r = run([*mpirun(k), attain, *args, "--threads", "1", "--out", out, "--quiet"])
        if not check(r.returncode == 0, f"{k} ranks: exit {r.returncode}: {r.stderr[-2000:]}"):
            continue
        same_files(serial, out, f"{case} on {k} ranks")
        with h5py.File(out, "r") as f:  # rows of several ranks: parallel HDF5's layout
            rows = [f[f"scenarios/{s}/target_values"] for s in f["scenarios"]
                    if "target_values" in f[f"scenarios/{s}"]]
            check(all((d.chunks is None) == (k > 1) for d in rows),
                  f"{k} ranks: per-run rows {'contiguous' if k > 1 else 'chunked'}")
        check(not [f for f in os.listdir(tmp) if ".tmp-" in f], f"{k} ranks: no temporary left")
        # Only rank 0 prints: the tables appear once, as one process prints them.
        strip = lambda t: re.sub(r"in \d+\.\d+ s.*", "", t)  # noqa: E731  (wall time)
        check(len(printed) > 100 and strip(r.stdout) == strip(printed),
              f"{k} ranks print what one process prints, once:\n{r.stdout}\n---\n{printed}")


def errors_case(tmp):
    # A model whose run fails with a non-finite value, rarely: log of a number below zero.
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write(
            "model: rare_failure\ndescription: d\ntime: {start: 2017, end: 2019}\n"
            "parameters:\n"
            "  p: {label: p, unit: '1', description: d, source: s, dist: uniform, min: 0, max: 1}\n"
            "auxiliaries:\n"
            "  x: {label: x, unit: '1', description: d, formula: ln(p - 0.00003)}\n"
            "targets:\n  - {node: x, op: '>=', threshold: -1, label: x, source: s}\n")
    runs = 3 * 4096 * 2  # 6 chunks: rank 0 has chunks 0-1, rank 1 2-3, rank 2 4-5
    # A seed whose first failing run lies on rank 2, found with one process.
    chosen = None
    for seed in range(1, 60):
        r = run([attain, "run", bad, "--runs", str(runs), "--seed", str(seed), "--quiet"])
        m = re.search(r"in run (\d+)", r.stderr)
        if r.returncode == 3 and m and int(m.group(1)) >= 4 * 4096:
            chosen = (seed, r.stderr.strip())
            break
    if not check(chosen is not None, "a seed whose first failing run is on rank 2"):
        return
    seed, message = chosen
    for k in (2, 3):
        out = os.path.join(tmp, f"bad{k}.h5")
        r = run([*mpirun(k), attain, "run", bad, "--runs", str(runs), "--seed", str(seed),
                 "--threads", "1", "--out", out, "--quiet"])
        check(r.returncode == 3, f"{k} ranks: exit code 3 as one process (got {r.returncode})")
        lines = r.stderr.splitlines()
        check(lines == [message], f"{k} ranks: the one message naming the run {message!r}: {lines}")
        check(not os.path.exists(out) and not [f for f in os.listdir(tmp) if ".tmp-" in f],
              f"{k} ranks: no results file, no temporary")
    # Bad input: every rank finds it; one message, exit code 2, as one process.
    one = run([attain, "run", os.path.join(tmp, "missing.yaml"), "--runs", "100", "--quiet"])
    r = run([*mpirun(3), attain, "run", os.path.join(tmp, "missing.yaml"), "--runs", "100"])
    check(r.returncode == one.returncode == 2, f"missing model: exit {r.returncode}, {one.returncode}")
    lines = r.stderr.splitlines()
    check(lines == [one.stderr.strip()], f"missing model: one message {lines}")
    # Adaptive stopping is refused on several ranks, once.
    r = run([*mpirun(2), attain, "run", model, "--ci-width", "0.02", "--runs", "1000"])
    lines = r.stderr.splitlines()
    check(r.returncode == 2 and len(lines) == 1 and "--ci-width" in lines[0],
          f"--ci-width on 2 ranks: exit {r.returncode}, {lines}")
    # Checkpoints are one process's: refused under mpirun, once.
    r = run([*mpirun(2), attain, "run", model, "--runs", "1000", "--out",
             os.path.join(tmp, "c.h5"), "--resume"])
    lines = r.stderr.splitlines()
    check(r.returncode == 2 and len(lines) == 1 and "--resume" in lines[0],
          f"--resume on 2 ranks: exit {r.returncode}, {lines}")
    # One rank fails alone (MPMD: rank 1 is given a missing model) while rank 0 waits in the
    # study's exchange: rank 1 prints its message and ends the job with its exit code.
    missing = os.path.join(tmp, "missing.yaml")
    r = run([*mpirun(1), attain, "run", model, "--runs", "20000", "--threads", "1", ":",
             "-np", "1", attain, "run", missing, "--runs", "20000", "--threads", "1"])
    check(r.returncode == 2 and r.stderr.splitlines() == [one.stderr.strip()],
          f"a lone failure ends the job: exit {r.returncode}, {r.stderr.splitlines()}")
    # An output folder that does not exist: every rank ends with rank 0's error.
    out = os.path.join(tmp, "no", "such", "dir.h5")
    one = run([attain, "run", model, "--runs", "100", "--out", out, "--quiet"])
    r = run([*mpirun(3), attain, "run", model, "--runs", "100", "--out", out, "--quiet"])
    lines = r.stderr.splitlines()
    check(r.returncode == one.returncode == 2 and lines == [one.stderr.strip()],
          f"unwritable output: exit {r.returncode} ({one.returncode}), {lines}")


with tempfile.TemporaryDirectory() as tmp:
    common = ["--runs", "20000", "--seed", "7"]
    if case == "run":
        for store in ("targets", "full"):
            verb_case(tmp, ["run", model, "--scenario", base, "--scenario", more, *common,
                            "--store", store])
        verb_case(tmp, ["run", model, "--scenario", base, "--runs", "50", "--seed", "3",
                        "--store", "summary"])
        # A part of a study (for attain merge), its exact state included.
        verb_case(tmp, ["run", model, "--scenario", base, *common, "--run-range", "4096:16384"])
    elif case == "compare":
        verb_case(tmp, ["compare", model, "--scenario", base, "--scenario", more, *common])
    elif case == "sweep":
        verb_case(tmp, ["sweep", teaching, "--lever", "funding=0.5:2:4", "--runs", "9000",
                        "--seed", "3"])
    elif case == "search":
        verb_case(tmp, ["search", teaching, "--lever", "funding", "--target", "firms_70",
                        "--probability", "0.8", "--runs", "9000", "--seed", "3"])
    elif case == "sensitivity":
        verb_case(tmp, ["sensitivity", model, "--scenario", base, "--rows", "5000",
                        "--resamples", "40", "--seed", "3"])
    elif case == "errors":
        errors_case(tmp)
    else:
        sys.exit(f"unknown case {case}")
finish(f"mpi {case}")
