"""Merges and resumes that cannot be fooled, and the checkpoint folder as attain's own
(issue 22, findings 2, 3, 5, 6 and the chunk-size state of 10). Genuine parts and
checkpoints are made by attain, then crafted with h5py as an attacker or an accident would;
each must give exit 2, one line 'attain: error: ...' naming the problem, no output file,
and no file outside changed.

Usage: /usr/bin/python3 hostile_merge_test.py ATTAIN_BINARY REPO_ROOT CASE
CASE is one of: merge, checkpoint_folder, resume.
"""
import hashlib
import os
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
model = os.path.join(root, "tests/data/stochastic.yaml")
HANG = 300
SG = "scenarios/default"


def run(args, **kw):
    return subprocess.run([attain, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=HANG, **kw)


def one_error(p, what, *needles, after_resuming=False):
    """Exit 2 and one line naming the problem; `after_resuming`: the error found while the
    kept rows are replayed follows the line saying the run resumes."""
    lines = [line for line in p.stderr.splitlines() if line]
    if after_resuming and lines and lines[0].startswith("attain: resuming from the checkpoint"):
        lines = lines[1:]
    check(p.returncode == 2, f"{what}: exit 2 (got {p.returncode}: {p.stderr[-2000:]})")
    check(len(lines) == 1 and lines[0].startswith("attain: error: "),
          f"{what}: one line 'attain: error: ...': {lines[:5]}")
    for n in needles:
        check(n in p.stderr, f"{what}: the message says '{n}': {p.stderr.strip()[:2000]}")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_parts(tmp, store, runs, cut):
    """Two genuine parts [0, cut) and [cut, runs) of one study."""
    paths = []
    for lo, hi in ((0, cut), (cut, runs)):
        path = os.path.join(tmp, f"{store}-{lo}.h5")
        p = run(["run", model, "--runs", str(runs), "--seed", "5", "--store", store, "--quiet",
                 "--run-range", f"{lo}:{hi}", "--out", path])
        check(p.returncode == 0, f"part [{lo}, {hi}) of --store {store}: {p.stderr}")
        paths.append(path)
    return paths


def replace(group, name, data):
    """Replaces dataset `name` of `group` (a dimension scale too) by `data`."""
    del group[name]
    group.create_dataset(name, data=data)


def merge_case(tmp, label, parts, craft, *needles):
    """Copies the genuine parts, crafts the second with `craft(h5py group of its scenario)`,
    merges: exit 2, one line, no merged file, the parts unchanged by the merge."""
    d = os.path.join(tmp, label.replace(" ", "_"))
    os.makedirs(d)
    copies = [shutil.copy(p, os.path.join(d, os.path.basename(p))) for p in parts]
    with h5py.File(copies[1], "r+") as f:
        craft(f[SG])
    before = [digest(c) for c in copies]
    out = os.path.join(d, "all.h5")
    one_error(run(["merge", *copies, "--out", out]), label, *needles)
    check(not os.path.exists(out), f"{label}: no merged file")
    check(not [n for n in os.listdir(d) if n.startswith("all.h5")], f"{label}: no temporary left")
    check([digest(c) for c in copies] == before, f"{label}: the parts unchanged")


def case_merge(tmp):
    targets = make_parts(tmp, "targets", 20000, 8192)
    full = make_parts(tmp, "full", 9000, 4096)
    out = os.path.join(tmp, "genuine.h5")
    p = run(["merge", *targets, "--out", out])
    check(p.returncode == 0, f"genuine parts merge: {p.stderr}")
    with h5py.File(out) as f:
        st = f[SG + "/state"].attrs
        check("digest_state" in st and "digest_rows" in st,
              f"the merged file has its digests: {sorted(st)}")
    check(run(["merge", *full, "--out", os.path.join(tmp, "genuine-full.h5")]).returncode == 0,
          "genuine --store full parts merge")
    n = 20000 - 8192

    # Finding 2: a run coordinate of 64 columns (was a heap overflow, glibc abort).
    merge_case(tmp, "run of 64 columns", targets,
               lambda g: replace(g, "run", np.zeros((n, 64), dtype=np.uint64)),
               "'run' is [11808, 64]", "[11808]")
    # Finding 3: rows narrower than the model (were heap words copied into the file).
    merge_case(tmp, "parameters of 1 column", targets,
               lambda g: replace(g, "parameters", np.zeros((n, 1))), "'parameters' is [11808, 1]")
    merge_case(tmp, "values 1 x 1", full,
               lambda g: replace(g, "values", np.zeros((1, 1))), "'values' is [1, 1]")
    merge_case(tmp, "fewer rows than runs", targets,
               lambda g: replace(g, "target_values", np.zeros((n - 1, 2))),
               "'target_values' is [11807, 2]")
    # Finding 6: parts that contradict themselves or each other.
    merge_case(tmp, "state of another range", targets,
               lambda g: g["state"].attrs.modify("first", np.uint64(4096)), "/state/0/index", "do not start at chunk 1")
    merge_case(tmp, "state of another chunk size", targets,
               lambda g: g["state"].attrs.modify("chunk_runs", np.int32(1024)),
               "1024-run chunks", "chunks have 4096 runs")

    def hits(g):
        h = g["hits"][()]
        h[0] += 100
        g["hits"][...] = h
    merge_case(tmp, "summary hits edited", targets, hits,
               "hit count of target 1", "reducer state")

    def state_hits(g):  # the state edited, its digest not: the digest catches it
        a = g["state/0/0/counts/hits"]
        a[0] = a[0] + 100
    merge_case(tmp, "state hits edited", targets, state_hits, "digest_state", "damaged or edited")

    def forged(g):  # state and summary edited alike, no digest: counts above runs
        for k in ("0", "1"):
            a = g[f"state/{k}/0/counts/hits"]
            a[0] = a[0] + 20000
        g["hits"][0] = g["hits"][0] + 40000
        del g["state"].attrs["digest_state"]
    merge_case(tmp, "hits above runs", targets, forged, "hits", "at most 11808 (the runs)")

    def row_edited(g):
        g["target_values"][7, 0] = g["target_values"][7, 0] + 1
    merge_case(tmp, "a row edited", targets, row_edited, "digest_rows")

    def run_order(g):
        r = g["run"][()]
        r[100:4196] = r[100:4196] + 1
        g["run"][...] = r
    merge_case(tmp, "run coordinate out of order", targets, run_order, "run")

    def partial_moved(g):
        g["state/0"].attrs.modify("index", np.uint64(3))
        del g["state"].attrs["digest_state"]
    merge_case(tmp, "partials that do not tile", targets, partial_moved, "/state/0/index", "do not start at chunk")


def fresh(out, store="targets", extra=()):
    return ["run", model, "--runs", "20000", "--seed", "5", "--store", store, "--quiet", "--out",
            out, *extra]


def case_checkpoint_folder(tmp):
    victim = os.path.join(tmp, "victim.txt")
    with open(victim, "w") as f:
        f.write("a file of the user's that no run may write\n")
    want = digest(victim)

    # Finding 5: the rows spool planted as a link. The pid is the spool's name: a child
    # plants rows-0-<its pid>.bin, then becomes attain (exec keeps the pid).
    out = os.path.join(tmp, "spool.h5")
    os.mkdir(out + ".checkpoint", 0o700)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.symlink(victim, os.path.join(out + ".checkpoint", f"rows-0-{os.getpid()}.bin"))
        os.dup2(w, 2)
        os.execv(attain, [attain, *fresh(out)])
    os.close(w)
    with os.fdopen(r) as f:
        err = f.read()
    _, status = os.waitpid(pid, 0)
    p = subprocess.CompletedProcess([], os.waitstatus_to_exitcode(status), "", err)
    one_error(p, "a link planted as the rows spool", "rows spool", "symbolic link")
    check(digest(victim) == want, "the spool's link: the victim unchanged")
    check(not os.path.exists(out), "the spool's link: no results file")

    # The lock planted as a link.
    out = os.path.join(tmp, "lock.h5")
    os.mkdir(out + ".checkpoint", 0o700)
    os.symlink(victim, out + ".checkpoint/lock")
    one_error(run(fresh(out, "targets", ["--checkpoint-every", "0"])),
              "a link planted as the lock", "lock", "symbolic link")
    check(digest(victim) == want, "the lock's link: the victim unchanged")
    check(not os.path.exists(out), "the lock's link: no results file")
    # A run too short to save a checkpoint never opens the lock: it ends, and the folder it
    # cannot lock is left as it is.
    p = run(fresh(out))
    check(p.returncode == 0, f"the lock's link, no checkpoint saved: the run ends: {p.stderr}")
    check(digest(victim) == want and os.path.islink(out + ".checkpoint/lock"),
          "the lock's link, no checkpoint saved: the victim unchanged, the link left")

    # The state's temporary planted as a link: removed (the link, never its target), and the
    # checkpoint written exclusively beside it; the run ends.
    out = os.path.join(tmp, "tmp.h5")
    os.mkdir(out + ".checkpoint", 0o700)
    os.symlink(victim, out + ".checkpoint/state.h5.tmp")
    p = run(fresh(out, "summary", ["--checkpoint-every", "0"]))
    check(p.returncode == 0, f"a link planted as state.h5.tmp: the run ends: {p.stderr}")
    check(digest(victim) == want, "state.h5.tmp's link: the victim unchanged")

    # The folder itself a link to another folder, or writable by others.
    elsewhere = os.path.join(tmp, "elsewhere")
    os.mkdir(elsewhere, 0o700)
    out = os.path.join(tmp, "folder.h5")
    os.symlink(elsewhere, out + ".checkpoint")
    one_error(run(fresh(out)), "the checkpoint folder a link", "is not a directory")
    check(os.listdir(elsewhere) == [], "the folder's link: nothing written where it points")
    check(not os.path.exists(out), "the folder's link: no results file")
    out = os.path.join(tmp, "open.h5")
    os.mkdir(out + ".checkpoint")
    os.chmod(out + ".checkpoint", 0o777)
    one_error(run(fresh(out)), "a checkpoint folder others can write", "writable by others")


def interrupted(tmp):
    """A genuine checkpoint of --store targets with a rows spool: kill -9 after the first."""
    out = os.path.join(tmp, "r.h5")
    args = fresh(out, "targets", ["--checkpoint-every", "0"])
    args[args.index("--runs") + 1] = "400000"
    proc = subprocess.Popen([attain, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + HANG
    ready = False
    while not ready and proc.poll() is None and time.monotonic() < deadline:
        try:
            with h5py.File(out + ".checkpoint/state.h5", "r") as f:
                ready = int(f["scenarios/0"].attrs["rows_bytes"]) > 0
        except (OSError, KeyError):
            time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=HANG)
    check(ready, "a checkpoint with rows to resume")
    return out, args


def resume_case(tmp, label, out, args, craft, *needles, after_resuming=False):
    d = os.path.join(tmp, label.replace(" ", "_"))
    os.makedirs(d)
    o = os.path.join(d, "r.h5")
    shutil.copytree(out + ".checkpoint", o + ".checkpoint", symlinks=True)
    craft(o + ".checkpoint")
    a = list(args)
    a[a.index("--out") + 1] = o
    one_error(run([*a, "--resume"]), label, *needles, after_resuming=after_resuming)
    check(not os.path.exists(o), f"{label}: no results file")


def case_resume(tmp):
    out, args = interrupted(tmp)
    with h5py.File(out + ".checkpoint/state.h5", "r") as f:
        spool = f["scenarios/0"].attrs["rows_file"]
        spool = spool.decode() if isinstance(spool, bytes) else spool
        good = int(f["scenarios/0"].attrs["rows_bytes"])
    folder = out + ".checkpoint"
    check(os.stat(folder).st_mode & 0o777 == 0o700, "the checkpoint folder is created 0700")
    check(all(os.stat(os.path.join(folder, n)).st_mode & 0o077 == 0 for n in ("lock", spool)),
          "the lock and the spool are the user's alone (0600)")

    def rows_bytes(value):
        def craft(folder):
            with h5py.File(folder + "/state.h5", "r+") as f:
                f["scenarios/0"].attrs.modify("rows_bytes", np.uint64(value))
        return craft
    resume_case(tmp, "rows_bytes inside a record", out, args, rows_bytes(good - 8),
                "does not fit its checkpoint")
    resume_case(tmp, "rows_bytes a record short", out, args, rows_bytes(good - (40 + 4096 * 32)),
                "rows of runs [0,")
    resume_case(tmp, "rows_bytes past the spool", out, args, rows_bytes(good * 50),
                "its checkpoint says")

    def chunk(folder):
        with h5py.File(folder + "/state.h5", "r+") as f:
            f["scenarios/0/state"].attrs.modify("chunk_runs", np.int32(2048))
    resume_case(tmp, "a state of another chunk size", out, args, chunk,
                "2048-run chunks", "chunks have 4096 runs")

    def state_range(folder):
        with h5py.File(folder + "/state.h5", "r+") as f:
            f["scenarios/0/state"].attrs.modify("first", np.uint64(4096))
    resume_case(tmp, "a state of another range", out, args, state_range, "/state/0/index", "do not start at chunk 1")

    def spool_link(folder):
        victim = os.path.join(tmp, "victim-resume.bin")
        shutil.copy(os.path.join(folder, spool), victim)
        os.remove(os.path.join(folder, spool))
        os.symlink(victim, os.path.join(folder, spool))
    resume_case(tmp, "the spool a link", out, args, spool_link, "symbolic link")

    def flipped(folder):  # a bit of a value, not of a record's head: the digest catches it
        with open(os.path.join(folder, spool), "r+b") as f:
            f.seek(40 + 3)
            b = f.read(1)
            f.seek(40 + 3)
            f.write(bytes([b[0] ^ 0x10]))
    resume_case(tmp, "a bit flipped in the spool", out, args, flipped, "rows_digest", "damaged",
                after_resuming=True)

    def fifo(folder):
        os.remove(folder + "/state.h5")
        os.mkfifo(folder + "/state.h5")
    resume_case(tmp, "state.h5 a FIFO", out, args, fifo, "state.h5", "not a plain file")

    # The genuine checkpoint resumes.
    p = run([*args, "--resume"])
    check(p.returncode == 0, f"the genuine checkpoint resumes: {p.stderr}")


cases = {"merge": case_merge, "checkpoint_folder": case_checkpoint_folder, "resume": case_resume}
with tempfile.TemporaryDirectory(prefix="attain-hostile-merge-") as tmp:
    cases[case](tmp)
finish(case)
