"""Fault injection on `attain run --out F.h5`: kill -9, catchable signals, concurrent writers
and stale temporary files. Checks what is left on disk with h5py.

Usage: /usr/bin/python3 fault_injection_test.py ATTAIN_BINARY REPO_ROOT CASE [SEED]
CASE is one of: kill9, signals, concurrent, stale. No check depends on speed: kills are
sent at seeded random moments or when a file reaches a state, and what must hold holds
whenever the kill lands. Timeouts only stop a hung run.
"""
import fcntl
import os
import random
import re
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
HANG = 300  # seconds: only to turn a hang into a failure
TEMP = re.compile(r"\.tmp-(\d+)-[0-9a-f]{16}$")
CRASH = ("terminate called", "what():", "Aborted", "Segmentation", "AddressSanitizer",
         "ThreadSanitizer", "runtime error", "HDF5-DIAG")



def command(out, run_seed, runs, threads=2, store="full", extra=()):
    return [attain, "run", model, "--runs", str(runs), "--seed", str(run_seed), "--threads",
            str(threads), "--store", store, "--quiet", "--out", out, *extra]


def solo(out, run_seed, runs, **kw):
    p = subprocess.run(command(out, run_seed, runs, **kw), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=HANG)
    assert p.returncode == 0, p.stderr
    return contents(out)


def contents(path):
    """Every dataset's bytes and the root attributes that say which run made the file."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                a = np.asarray(obj[()])
                out[name] = a.tobytes() if a.dtype.kind != "O" else repr(list(a.ravel()))
        f.visititems(visit)
        out["@seed"] = int(f.attrs["seed"])
        out["@runs"] = int(f.attrs["runs"])
        out["@scenarios"] = [str(s) for s in f.attrs["scenarios"]]  # written last, at commit
    return out


def temporaries(folder, name):
    return sorted(e for e in os.listdir(folder) if e.startswith(name + ".tmp-"))


def wait_for(proc, ready, limit=HANG):
    """Polls until ready() or the process has exited (then the trigger is moot)."""
    end = time.monotonic() + limit
    while proc.poll() is None and not ready() and time.monotonic() < end:
        time.sleep(0.002)


def temp_size(folder, name):
    sizes = [os.path.getsize(os.path.join(folder, t)) for t in temporaries(folder, name)
             if os.path.exists(os.path.join(folder, t))]
    return max(sizes, default=-1)


def next_run_cleans(folder, name, expected_pids, what):
    """The next run writing to the same output removes the temporaries of dead runs and
    says so, one line each."""
    out = os.path.join(folder, name)
    p = subprocess.run(command(out, 3, 500, store="summary"), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=HANG)
    check(p.returncode == 0, f"{what}: next run exits 0 (got {p.returncode}: {p.stderr})")
    lines = [l for l in p.stderr.splitlines() if l]
    removed = [l for l in lines if "removed stale temporary file" in l]
    check(len(removed) == len(expected_pids) and len(lines) == len(removed),
          f"{what}: one line per stale temporary ({expected_pids}), got {lines}")
    for pid in expected_pids:
        check(any(l.startswith("attain: removed stale temporary file '") and
                  l.endswith(f"' left by a killed run (pid {pid})") for l in removed),
              f"{what}: a line names pid {pid}: {removed}")
    check(temporaries(folder, name) == [], f"{what}: no temporary left after the next run: "
          f"{temporaries(folder, name)}")
    check(os.path.exists(out), f"{what}: the next run wrote its file")


def case_kill9(tmp):
    runs, run_seed = 60000, 11
    ref = solo(os.path.join(tmp, "ref.h5"), run_seed, runs)
    rng = random.Random(seed)
    print(f"kill9: seed {seed}", flush=True)
    # Seeded random moments, and moments set by what is on disk: the temporary created,
    # partly written (1 MiB, 8 MiB), and the final file renamed into place.
    moments = [("after", 0)] + [("after", rng.uniform(0, 1.2)) for _ in range(5)] + [
        ("temporary exists", 0), ("temporary over", 1 << 20), ("temporary over", 8 << 20),
        ("final file exists", 0)]
    for i, (kind, value) in enumerate(moments):
        what = f"kill -9 {kind} {value:g}"
        folder = os.path.join(tmp, f"k{i}")
        os.mkdir(folder)
        out = os.path.join(folder, "F.h5")
        proc = subprocess.Popen(command(out, run_seed, runs), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        if kind == "after":
            end = time.monotonic() + value
            wait_for(proc, lambda: time.monotonic() >= end)
        elif kind == "temporary exists":
            wait_for(proc, lambda: temporaries(folder, "F.h5"))
        elif kind == "temporary over":
            wait_for(proc, lambda: temp_size(folder, "F.h5") > value)
        else:
            wait_for(proc, lambda: os.path.exists(out))
        proc.send_signal(signal.SIGKILL)  # a no-op when it has already exited
        proc.wait(timeout=HANG)
        finished = proc.returncode == 0
        print(f"  {what}: {'finished first' if finished else 'killed'}; "
              f"temporaries {temporaries(folder, 'F.h5')}", flush=True)
        if os.path.exists(out):
            # After the rename the file is complete: exactly the solo run's.
            try:
                same = contents(out) == ref
            except Exception as e:  # an incomplete file does not even open
                same = False
                print(f"  {out}: {e}")
            check(same, f"{what}: a file at the final path is complete and equal to a solo run")
        else:
            check(not finished, f"{what}: a finished run left its file")
        left = temporaries(folder, "F.h5")
        pids = []
        for t in left:
            m = TEMP.search(t)
            check(m is not None and int(m.group(1)) == proc.pid,
                  f"{what}: temporary {t} is named F.h5.tmp-<pid {proc.pid}>-<16 hex digits>")
            if m:
                pids.append(int(m.group(1)))
        check(len(left) <= 1, f"{what}: at most one temporary: {left}")
        if finished:
            check(left == [], f"{what}: a finished run leaves no temporary: {left}")
        next_run_cleans(folder, "F.h5", pids, what)


def case_signals(tmp):
    # An older complete file at the output stays as it was; the run ends with 130.
    out = os.path.join(tmp, "F.h5")
    old = solo(out, 5, 1000)
    rng = random.Random(seed)
    print(f"signals: seed {seed}", flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        for trigger in ("temporary exists", "temporary over 64 KiB", "after"):
            what = f"{sig.name} when {trigger}"
            # A run that cannot end on its own: only the signal ends it.
            proc = subprocess.Popen(command(out, 9, 10**12, store="targets"),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if trigger == "temporary exists":
                wait_for(proc, lambda: temporaries(tmp, "F.h5"))
            elif trigger == "temporary over 64 KiB":
                wait_for(proc, lambda: temp_size(tmp, "F.h5") > 65536)
            else:
                wait_for(proc, lambda: temporaries(tmp, "F.h5"))
                end = time.monotonic() + rng.uniform(0, 0.5)
                wait_for(proc, lambda: time.monotonic() >= end)
            check(proc.poll() is None, f"{what}: still running when signalled")
            proc.send_signal(sig)
            try:
                _, err = proc.communicate(timeout=HANG)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            check(proc.returncode == 130, f"{what}: exit 130 (got {proc.returncode}: {err})")
            check(not any(c in err for c in CRASH), f"{what}: no crash: {err}")
            check(temporaries(tmp, "F.h5") == [], f"{what}: no temporary left: "
                  f"{temporaries(tmp, 'F.h5')}")
            check(contents(out) == old, f"{what}: the older file at the output is untouched")
            # The signal saved a checkpoint (tests/cli/scaling_test.py resumes them); the
            # next round starts afresh.
            check(os.path.exists(out + ".checkpoint/state.h5") and "checkpoint saved in" in err,
                  f"{what}: a checkpoint saved and named: {err}")
            shutil.rmtree(out + ".checkpoint", ignore_errors=True)


def case_concurrent(tmp):
    runs = 40000
    rng = random.Random(seed)
    print(f"concurrent: seed {seed}", flush=True)
    out = os.path.join(tmp, "F.h5")
    for round_, stagger in enumerate(["together", "second starts while the first writes",
                                      "together", "second starts while the first writes"]):
        seeds = (rng.randrange(1, 2**32), rng.randrange(1, 2**32))
        refs = [solo(os.path.join(tmp, f"solo{round_}_{i}.h5"), s, runs, threads=1)
                for i, s in enumerate(seeds)]
        check(refs[0] != refs[1], "the two seeds give different files")
        what = f"round {round_} ({stagger}), seeds {seeds}"
        if os.path.exists(out):
            os.remove(out)
        procs = [subprocess.Popen(command(out, seeds[0], runs, threads=1),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)]
        if stagger != "together":
            wait_for(procs[0], lambda: temp_size(tmp, "F.h5") > 0)
        procs.append(subprocess.Popen(command(out, seeds[1], runs, threads=1),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True))
        for i, p in enumerate(procs):
            _, err = p.communicate(timeout=HANG)
            check(p.returncode == 0, f"{what}: run {i} exits 0 (got {p.returncode}: {err})")
            check(err == "", f"{what}: run {i} says nothing on stderr: {err}")
        got = contents(out)
        which = [i for i in (0, 1) if got == refs[i]]
        check(len(which) == 1, f"{what}: the file is entirely one run's "
              f"(seed attribute {got['@seed']})")
        if which:
            check(got["@seed"] == seeds[which[0]], f"{what}: its seed attribute is its run's")
        check(temporaries(tmp, "F.h5") == [], f"{what}: no temporary left")


def case_stale(tmp):
    """Which files the cleanup removes: dead writers' temporaries of this output only."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    dead_pid = dead.pid
    live_pid = os.getpid()
    hexes = ["0123456789abcdef", "fedcba9876543210", "00000000deadbeef", "1111111122222222"]
    files = {
        f"F.h5.tmp-{dead_pid}-{hexes[0]}": "removed",     # a killed run's
        f"F.h5.tmp-{live_pid}-{hexes[1]}": "kept",        # a live run's
        f"F.h5.tmp-{dead_pid}-{hexes[2]}": "locked",      # held by a writer we cannot see
        f"F.h5.tmp-{dead_pid}-xyz": "kept",               # not a name attain makes
        f"F.h5.tmp-{dead_pid}-{hexes[3]}.bak": "kept",
        "F.h5.tmp-notes": "kept",
        f"G.h5.tmp-{dead_pid}-{hexes[0]}": "kept",        # another output's
        f"xF.h5.tmp-{dead_pid}-{hexes[0]}": "kept",
    }
    for name in files:
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(b"\x89HDF\r\n\x1a\n partial")
    target = os.path.join(tmp, "target")
    with open(target, "w") as f:
        f.write("not attain's")
    link = f"F.h5.tmp-{dead_pid}-{hexes[3]}"
    os.symlink(target, os.path.join(tmp, link))   # not a regular file: left alone
    files[link] = "kept"
    locked = open(os.path.join(tmp, f"F.h5.tmp-{dead_pid}-{hexes[2]}"), "rb")
    fcntl.flock(locked, fcntl.LOCK_EX)
    try:
        out = os.path.join(tmp, "F.h5")
        p = subprocess.run(command(out, 1, 500, store="summary"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, timeout=HANG)
    finally:
        locked.close()
    check(p.returncode == 0, f"run exits 0 ({p.stderr})")
    expected = (f"attain: removed stale temporary file '{tmp}/F.h5.tmp-{dead_pid}-{hexes[0]}' "
                f"left by a killed run (pid {dead_pid})\n")
    check(p.stderr == expected, f"stderr is exactly one line:\n{expected}got:\n{p.stderr}")
    for name, fate in files.items():
        exists = os.path.lexists(os.path.join(tmp, name))
        check(exists == (fate != "removed"), f"{name} is {fate}")
    check(open(target).read() == "not attain's", "a symlink's target is untouched")
    check(os.path.exists(out), "the run wrote its file")
    # Relative output paths look in the working directory.
    with open(os.path.join(tmp, f"R.h5.tmp-{dead_pid}-{hexes[0]}"), "wb") as f:
        f.write(b"partial")
    p = subprocess.run(command("R.h5", 1, 500, store="summary"), cwd=tmp,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=HANG)
    check(p.returncode == 0 and f"removed stale temporary file 'R.h5.tmp-{dead_pid}-" in p.stderr,
          f"a relative --out: {p.stderr}")
    check(temporaries(tmp, "R.h5") == [], "a relative --out: temporary removed")


cases = {"kill9": case_kill9, "signals": case_signals, "concurrent": case_concurrent,
         "stale": case_stale}
with tempfile.TemporaryDirectory(prefix="attain-fault-") as tmp:
    cases[case](tmp)
finish(case)
