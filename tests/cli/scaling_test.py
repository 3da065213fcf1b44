"""Runs split over processes and time: `--run-range` parts merged by `attain merge`, and
checkpoints resumed after kill -9 or a signal. Every case compares every dataset of the
result with the file one uninterrupted process writes (h5py), byte for byte.

Usage: /usr/bin/python3 scaling_test.py ATTAIN_BINARY REPO_ROOT CASE [SEED]
CASE is one of: merge, merge_errors, run_range_errors, resume_kill9, resume_signal,
resume_errors, run_index_above_2_32. Kills land at seeded random moments; what must hold
holds wherever they land. Timeouts only stop a hung run.
"""
import os
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

from checks import check, finish  # tests/cli/checks.py

attain, root, case = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 20261128
model = os.path.join(root, "tests/data/stochastic.yaml")
base = os.path.join(root, "tests/data/stochastic_base.yaml")
more = os.path.join(root, "tests/data/stochastic_more.yaml")
HANG = 300


def datasets(path):
    """Every dataset's bytes (strings as text)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                a = np.asarray(obj[()])
                out[name] = a.tobytes() if a.dtype.kind != "O" else repr(list(a.ravel()))
        f.visititems(visit)
    return out


def same_file(path, ref, what):
    got, want = datasets(path), datasets(ref)
    check(sorted(got) == sorted(want), f"{what}: the same datasets "
          f"(extra {sorted(set(got) - set(want))[:5]}, missing {sorted(set(want) - set(got))[:5]})")
    differ = [k for k in want if k in got and got[k] != want[k]]
    check(not differ, f"{what}: every dataset equal to the one-process file's; differ: {differ[:8]}")
    check(len(want) > 50, f"{what}: many datasets compared ({len(want)})")


def run(args, **kw):
    return subprocess.run([attain, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=HANG, **kw)


def one_error(p, what, *needles):
    lines = [l for l in p.stderr.splitlines() if l]
    check(p.returncode == 2, f"{what}: exit 2 (got {p.returncode}: {p.stderr})")
    check(len(lines) == 1 and lines[0].startswith("attain: error: "),
          f"{what}: one line 'attain: error: ...': {lines}")
    for n in needles:
        check(n in p.stderr, f"{what}: the message says '{n}': {p.stderr.strip()}")


def command(out, runs, store, extra=()):
    return ["run", model, "--scenario", base, "--scenario", more, "--runs", str(runs), "--seed",
            "17", "--store", store, "--quiet", "--out", out, *extra]


def case_merge(tmp):
    rng = random.Random(seed)
    for store, runs in (("targets", 50000), ("full", 20000), ("summary", 40000)):
        ref = os.path.join(tmp, f"one-{store}.h5")
        p = run(command(ref, runs, store, ["--save-state"]))
        check(p.returncode == 0, f"{store}: the one-process run: {p.stderr}")
        with h5py.File(ref) as f:
            chunk = int(f.attrs["chunk_runs"])
        # Cut points on chunk boundaries, drawn at random; parts merged in a shuffled order.
        cuts = sorted(rng.sample(range(1, (runs - 1) // chunk + 1), 2))
        bounds = [0] + [c * chunk for c in cuts] + [runs]
        parts = []
        for i in range(len(bounds) - 1):
            part = os.path.join(tmp, f"{store}-part{i}.h5")
            p = run(command(part, runs, store, ["--run-range", f"{bounds[i]}:{bounds[i + 1]}",
                                                 "--threads", str(1 + i % 2)]))
            check(p.returncode == 0, f"{store}: part {bounds[i]}:{bounds[i + 1]}: {p.stderr}")
            with h5py.File(part) as f:
                check(int(f.attrs["first_run"]) == bounds[i] and
                      int(f.attrs["runs"]) == bounds[i + 1] - bounds[i] and
                      int(f.attrs["study_runs"]) == runs,
                      f"{store}: part {i} records its range and the study's runs")
                check(len(f["scenarios"]) == 2 and
                      all("state" in f["scenarios"][s] for s in f["scenarios"]),
                      f"{store}: part {i} stores each scenario's reducer state")
            parts.append(part)
        rng.shuffle(parts)
        merged = os.path.join(tmp, f"merged-{store}.h5")
        p = run(["merge", *parts, "--out", merged])
        check(p.returncode == 0, f"{store}: merge exits 0: {p.stderr}")
        check(f"merged 3 parts of runs [0, {runs})" in p.stdout, f"{store}: says what: {p.stdout}")
        same_file(merged, ref, f"{store}, parts {bounds}")
        with h5py.File(merged) as f, h5py.File(ref) as g:
            for a in ("seed", "runs", "first_run", "study_runs", "chunk_runs", "store", "version"):
                check(np.array_equal(f.attrs[a], g.attrs[a]), f"{store}: root attribute {a}")
    print(f"merge: seed {seed}")


def case_merge_errors(tmp):
    runs = 20000
    parts = {}
    for name, rr, extra in (("a", "0:8192", []), ("b", "8192:16384", []), ("c", "16384:20000", []),
                            ("b2", "4096:16384", []), ("seed", "8192:16384", ["--seed", "5"]),
                            ("sum", "8192:16384", ["--store", "summary"])):
        path = os.path.join(tmp, name + ".h5")
        args = command(path, runs, "targets", ["--run-range", rr])
        if "--seed" in extra:
            args[args.index("--seed") + 1] = extra[1]
        elif extra:
            args[args.index("--store") + 1] = extra[1]
        p = run(args)
        check(p.returncode == 0, f"part {name}: {p.stderr}")
        parts[name] = path
    whole = os.path.join(tmp, "whole.h5")
    check(run(command(whole, runs, "targets")).returncode == 0, "a whole run")
    sweep = os.path.join(tmp, "sweep.h5")
    check(run(["sweep", model, "--lever", "funding=0.5:1.5:3", "--runs", "2000", "--quiet",
               "--out", sweep]).returncode == 0, "a sweep file")
    out = os.path.join(tmp, "out.h5")
    P = parts
    for args, needles, what in (
            ([P["a"], P["c"]], ["runs [8192, 16384) are in no part"], "a gap"),
            ([P["a"], P["b"]], ["runs [16384, 20000) are in no part"], "the end missing"),
            ([P["b"], P["c"]], ["runs [0, 8192) are in no part"], "the start missing"),
            ([P["a"], P["b2"], P["b"], P["c"]], ["are in both", "must not overlap"], "an overlap"),
            ([P["a"], P["seed"], P["c"]], ["differ in seed (5 and 17)"], "another seed"),
            ([P["a"], P["sum"], P["c"]], ["differ in --store"], "another store"),
            ([P["a"], P["b"], whole], ["are in both"], "a whole run with parts"),
            ([P["a"], sweep], ["holds a sweep"], "a sweep file"),
            ([P["a"], os.path.join(tmp, "none.h5")], ["none.h5"], "a missing file"),
            ([whole], ["holds no reducer state", "--run-range"], "a file without state"),
    ):
        p = run(["merge", *args, "--out", out])
        one_error(p, f"merge with {what}", *needles)
        check(not os.path.exists(out), f"merge with {what}: no output file")
        check(not [f for f in os.listdir(tmp) if ".tmp-" in f], f"{what}: no temporary left")
    p = run(["merge", P["a"], P["b"], P["c"], "--out", P["a"]])
    one_error(p, "merge over a part", "would replace it")
    # Another model: the same file with one number changed.
    other_model = os.path.join(tmp, "other.yaml")
    with open(model) as f:
        text = f.read()
    with open(other_model, "w") as f:
        f.write(text + "\n# changed\n")
    other = os.path.join(tmp, "other.h5")
    args = command(other, runs, "targets", ["--run-range", "8192:16384"])
    args[1] = other_model
    check(run(args).returncode == 0, "a part of another model")
    one_error(run(["merge", P["a"], other, P["c"], "--out", out]), "another model",
              "differ in model")


def case_run_range_errors(tmp):
    out = os.path.join(tmp, "p.h5")
    for rr, needles in (("100:8192", ["run 100 is not on a chunk boundary",
                                      "nearest boundaries are 0 and 4096"]),
                        ("0:5000", ["nearest boundaries are 4096 and 8192"]),
                        ("8192:4096", ["FIRST:LAST with 0 <= FIRST < LAST <= --runs (20000)"]),
                        ("0:30000", ["LAST <= --runs (20000)"]),
                        ("abc", ["FIRST:LAST"]), ("4096", ["FIRST:LAST"])):
        one_error(run(command(out, 20000, "summary", ["--run-range", rr])), f"--run-range {rr}",
                  *needles)
        check(not os.path.exists(out), f"--run-range {rr}: no file")
    one_error(run(["run", model, "--runs", "20000", "--run-range", "0:4096"]),
              "--run-range without --out", "--run-range needs --out")
    one_error(run(command(out, 20000, "summary", ["--run-range", "0:4096", "--ci-width", "0.1"])),
              "--run-range with --ci-width", "do not go together")
    # The last part may end at --runs, off a boundary.
    p = run(command(out, 20000, "summary", ["--run-range", "16384:20000"]))
    check(p.returncode == 0, f"a last part ending at --runs: {p.stderr}")


def kill_and_resume(tmp, store, runs, moments, rng, extra=()):
    ref = os.path.join(tmp, f"ref-{store}.h5")
    p = run(command(ref, runs, store, ["--save-state", "--threads", "2"]))
    check(p.returncode == 0, f"{store}: the uninterrupted run: {p.stderr}")
    for i in range(moments):
        folder = os.path.join(tmp, f"{store}-{i}")
        os.mkdir(folder)
        out = os.path.join(folder, "r.h5")
        args = command(out, runs, store, ["--save-state", "--threads", "2", "--checkpoint-every",
                                          "0", *extra])
        kills = 0
        # Kill -9 at a random moment, resume, again, until a run finishes.
        for attempt in range(5):
            proc = subprocess.Popen([attain, *args, "--resume"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(0.05, 1.2))
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=HANG)
            if proc.returncode == 0:
                break
            kills += 1
            check(proc.returncode == -signal.SIGKILL, f"{store} {i}: killed, not failed: {err}")
            check(not os.path.exists(out), f"{store} {i}: no file at the output after a kill")
        p = run([*args, "--resume"])
        check(p.returncode == 0, f"{store} {i}: the resumed run ends (after {kills} kills): "
              f"{p.stderr}")
        same_file(out, ref, f"{store}, resumed after {kills} kill -9")
        check(not os.path.exists(out + ".checkpoint"),
              f"{store} {i}: the checkpoint is removed once the file is complete")
        check(not [f for f in os.listdir(folder) if f != "r.h5"],
              f"{store} {i}: only the results file is left: {os.listdir(folder)}")
        print(f"  {store} {i}: {kills} kills")


def case_resume_kill9(tmp):
    rng = random.Random(seed)
    print(f"resume_kill9: seed {seed}", flush=True)
    kill_and_resume(tmp, "full", 60000, 2, rng)
    kill_and_resume(tmp, "summary", 200000, 2, rng)


def case_resume_signal(tmp):
    rng = random.Random(seed)
    for sig in (signal.SIGINT, signal.SIGTERM):
        folder = os.path.join(tmp, sig.name)
        os.mkdir(folder)
        out = os.path.join(folder, "r.h5")
        ref = os.path.join(folder, "ref.h5")
        runs = 300000
        check(run(command(ref, runs, "targets", ["--save-state"])).returncode == 0, "reference")
        # A long interval: the checkpoint comes from the signal, not the clock.
        args = command(out, runs, "targets", ["--save-state", "--threads", "2",
                                              "--checkpoint-every", "3600"])
        proc = subprocess.Popen([attain, *args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.3, 1.5))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=HANG)
        if proc.returncode == 0:
            print(f"  {sig.name}: finished before the signal")
            continue
        check(proc.returncode == 130, f"{sig.name}: exit 130 (got {proc.returncode}: {err})")
        check("checkpoint saved in" in err and "--resume" in err,
              f"{sig.name}: says where the checkpoint is: {err}")
        check(not os.path.exists(out), f"{sig.name}: no file at the output")
        check(os.path.exists(out + ".checkpoint/state.h5"), f"{sig.name}: a checkpoint")
        p = run(args)
        one_error(p, f"{sig.name}: a run over a checkpoint without --resume", "--resume")
        p = run([*args, "--resume"])
        check(p.returncode == 0, f"{sig.name}: resumed: {p.stderr}")
        check("resuming from the checkpoint" in p.stderr, f"{sig.name}: says it resumes")
        same_file(out, ref, f"{sig.name}, resumed")


def case_resume_errors(tmp):
    out = os.path.join(tmp, "r.h5")
    runs = 300000
    args = command(out, runs, "targets", ["--checkpoint-every", "0"])
    proc = subprocess.Popen([attain, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + HANG
    while not os.path.exists(out + ".checkpoint/state.h5") and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=HANG)
    check(os.path.exists(out + ".checkpoint/state.h5"), "a checkpoint to resume")
    for change, value, key in (("--seed", "18", "seed"), ("--runs", "400000", "run range"),
                               ("--store", "full", "store")):
        changed = list(args)
        changed[changed.index(change) + 1] = value
        one_error(run([*changed, "--resume"]), f"--resume with another {change}",
                  f"made with another {key}")
    one_error(run(["run", model, "--scenario", base, "--runs", str(runs), "--seed", "17",
                   "--store", "targets", "--out", out, "--resume"]),
              "--resume with other scenarios", "made with another scenarios")
    one_error(run([*args, "--ci-width", "0.01", "--resume"]), "--resume with --ci-width",
              "do not go together")
    one_error(run([*args[:-2], "--checkpoint-every", "-1"]), "a negative interval",
              "--checkpoint-every must be seconds")
    with open(out + ".checkpoint/state.h5", "wb") as f:
        f.write(b"not a checkpoint")
    one_error(run([*args, "--resume"]), "a damaged checkpoint", "remove")
    shutil.rmtree(out + ".checkpoint")
    p = run([*args, "--resume"])
    check(p.returncode == 0 and "no checkpoint" in p.stderr,
          f"--resume without a checkpoint starts from the first run: {p.stderr}")


def case_run_index_above_2_32(tmp):
    """Run indices are 64-bit: run 2^32 + r draws its own streams, not run r's, and replay
    reproduces it from the file."""
    big = 2**32
    low, high = os.path.join(tmp, "low.h5"), os.path.join(tmp, "high.h5")
    common = ["run", model, "--runs", str(2**40), "--store", "full", "--quiet", "--seed", "3"]
    check(run([*common, "--run-range", "0:4096", "--out", low]).returncode == 0, "runs [0, 4096)")
    p = run([*common, "--run-range", f"{big}:{big + 4096}", "--out", high])
    check(p.returncode == 0, f"runs [2^32, 2^32 + 4096): {p.stderr}")
    with h5py.File(low) as f, h5py.File(high) as g:
        lo = f["scenarios/default/values"][()]
        hi = g["scenarios/default/values"][()]
        check(int(g["scenarios/default/run"][5]) == big + 5, "row 5 is run 2^32 + 5")
        same = sum(np.array_equal(lo[i], hi[i]) for i in range(4096))
        check(same == 0, f"no run 2^32 + r equals run r ({same} do)")
        params_lo = f["scenarios/default/parameters"][()]
        params_hi = g["scenarios/default/parameters"][()]
        check(not np.any(params_lo == params_hi), "no parameter draw of run 2^32 + r equals run r's")
        row = hi[5]
    p = run(["replay", high, "--run", str(big + 5), "--json"])
    check(p.returncode == 0, f"replay run 2^32 + 5: {p.stderr}")
    doc = json.loads(p.stdout)
    with h5py.File(high) as g:
        nodes = [n.decode() if isinstance(n, bytes) else n for n in g["model/node"][()]]
    values = doc.get("values")
    check(isinstance(values, dict) and set(values) == set(nodes),
          f"replay's JSON has every node's values: {list(doc)}")
    if isinstance(values, dict) and set(values) == set(nodes):
        replayed = np.array([[values[n][step] for n in nodes] for step in range(row.shape[0])])
        check(np.array_equal(replayed, row), "replay gives run 2^32 + 5's stored values bit for bit")


cases = {"merge": case_merge, "merge_errors": case_merge_errors,
         "run_range_errors": case_run_range_errors, "resume_kill9": case_resume_kill9,
         "resume_signal": case_resume_signal, "resume_errors": case_resume_errors,
         "run_index_above_2_32": case_run_index_above_2_32}
with tempfile.TemporaryDirectory(prefix="attain-scaling-") as tmp:
    cases[case](tmp)
finish(case)
