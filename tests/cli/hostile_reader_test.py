"""Hostile results files and checkpoints are refused in one line (issue 22, findings 1-4, 7, 10).

Usage: /usr/bin/python3 hostile_reader_test.py ATTAIN_BINARY REPO_ROOT
Crafts each file of hostile_files.CRAFTS from a genuine results file and runs every verb
that reads it (export, export --what runs, report, replay FILE.h5, merge); each must exit
with code 2, print exactly one line on stderr naming the crafted object, leave no output
file, and end within a timeout (a FIFO behind a link must not block). Also a FIFO as a
checkpoint's state.h5 under `run --resume`, and a genuine file read as before.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_files as hf  # noqa: E402
from checks import check, finish  # noqa: E402  tests/cli/checks.py

attain, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TIMEOUT = 60  # seconds; a reader that blocks or allocates gigabytes fails here

# The verbs each craft must be refused by (all that read the crafted object).
EVERY = ["export", "report", "replay"]
VERBS = {
    "state_first_as_u64_64": ["merge"],
    "state_chunk_size": ["merge"],
    "state_hits_above_runs": ["merge"],
    "state_partial_index": ["merge"],
    "narrow_rows": ["export_runs", "merge"],
    "run_coordinate_2d": ["export_runs", "merge"],
    "seed_as_u64_64": EVERY + ["export_runs", "merge"],
    "seed_as_u64_3": EVERY,
    "engine_version_as_u64_64": ["export", "report"],
    "huge_declared": ["export", "report"],
    "huge_declared_unsized": ["export", "report"],
    "hits_negative": ["export", "report"],
    "hits_above_runs": ["export", "report"],
    "hits_nan": ["export", "report"],
    "runs_fraction": ["export", "report"],
    "probability_above_one": ["export", "report"],
}
STRUCTURE = EVERY + ["export_runs", "merge"]  # links and storage: refused at open by all


def command(verb, path, out):
    return {
        "export": [attain, "export", path, "--format", "csv", "--out", out],
        "export_runs": [attain, "export", path, "--format", "csv", "--what", "runs", "--out", out],
        "report": [attain, "report", path, "--out", out],
        "replay": [attain, "replay", path, "--run", "1"],
        "merge": [attain, "merge", path, "--out", out],
    }[verb]


def refused(name, verb, path, obj, folder):
    out = os.path.join(folder, f"out_{name}_{verb}" + (".html" if verb == "report" else
                                                        ".h5" if verb == "merge" else ".csv"))
    label = f"{name} / {verb}"
    start = time.monotonic()
    try:
        r = subprocess.run(command(verb, path, out), capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        check(False, f"{label}: no answer within {TIMEOUT} s (blocked or allocating)")
        return
    seconds = time.monotonic() - start
    err = r.stderr.decode("utf-8", "replace")
    lines = err.splitlines()
    check(r.returncode == 2, f"{label}: exit {r.returncode}, not 2; stderr: {err[:400]!r}")
    check(len(lines) == 1, f"{label}: {len(lines)} lines on stderr, not 1: {err[:400]!r}")
    # merge checks a part's row shapes itself and names the dataset within its scenario
    named = obj in err or (verb == "merge" and f"'{obj.rsplit('/', 1)[-1]}'" in err)
    check(named, f"{label}: the message does not name {obj!r}: {err[:400]!r}")
    check(os.path.basename(path) in err, f"{label}: the message does not name the file: {err!r}")
    leftovers = [f for f in os.listdir(folder) if f.startswith(os.path.basename(out))]
    check(not leftovers, f"{label}: output left behind: {leftovers}")
    check(seconds < 20, f"{label}: took {seconds:.1f} s to refuse")


def fifo_checkpoint(folder):
    """Finding 10: a FIFO as the checkpoint's state.h5 must not block --resume."""
    out, cp = hf.checkpoint_with_fifo_state(folder)
    args = [attain, "run", os.path.join(root, "tests/data/stochastic.yaml"), "--runs", "1000",
            "--out", out, "--resume", "--quiet"]
    try:
        r = subprocess.run(args, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        check(False, "FIFO state.h5: --resume blocked")
        return
    err = r.stderr.decode("utf-8", "replace")
    check(r.returncode == 2, f"FIFO state.h5: exit {r.returncode}, not 2: {err!r}")
    check(len(err.splitlines()) == 1, f"FIFO state.h5: not one line: {err!r}")
    check("state.h5" in err and ("regular file" in err or "plain file" in err), f"FIFO state.h5: unclear: {err!r}")
    check(not os.path.exists(out), "FIFO state.h5: an output file was left")


def genuine_still_reads(good, folder):
    for verb in STRUCTURE:
        out = os.path.join(folder, f"good_{verb}" + (".html" if verb == "report" else
                                                     ".h5" if verb == "merge" else ".csv"))
        r = subprocess.run(command(verb, good, out), capture_output=True, timeout=TIMEOUT)
        check(r.returncode == 0, f"genuine / {verb}: exit {r.returncode}: {r.stderr[:400]!r}")


with tempfile.TemporaryDirectory() as tmp:
    good = hf.genuine(attain, root, tmp)
    genuine_still_reads(good, tmp)
    only = sys.argv[3:]  # optional: names of crafts to run
    for name, craft in hf.CRAFTS:
        if only and name not in only:
            continue
        folder = os.path.join(tmp, name)
        os.mkdir(folder)
        path, obj = craft(good, folder)
        for verb in VERBS.get(name, STRUCTURE):
            refused(name, verb, path, obj, folder)
    fifo_checkpoint(tmp)
finish()
