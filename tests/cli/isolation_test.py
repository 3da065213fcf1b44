"""Results files from elsewhere are read in a confined child process (attain/isolation.hpp):
whatever a damaged file does to libhdf5, the verb ends with one error line and exit 2.

Usage: /usr/bin/python3 isolation_test.py ATTAIN_BINARY REPO_ROOT CASE
CASE is one of:
  corpus        200 byte-corrupted copies of a genuine results file (random bytes at random
                offsets with fixed seeds, every tenth truncated): `export` and `report` of
                each exit 0 or 2, with at most one line on stderr, never a signal, a hang or
                exit 1, and leave no output behind on an error
  libhdf5_crash the size of an object in the file's first global heap made 2^40 larger:
                libhdf5 1.10.8 crashes on it in H5HG_read (shown by h5py, on the same
                library, dying of a signal); `export`, `report`, `replay`, `merge` and
                `sensitivity --given-data` exit 0 or 2 with one line, and for the objects
                attain reads, that line is "... could not be read safely: ... crashed ..."
Under a sanitizer, a report whose first frames are in libhdf5 may precede that line (the
child's standard error is shown after a crash there, so that a finding in attain's own
reader is never hidden).
"""
import concurrent.futures
import os
import random
import struct
import subprocess
import sys
import tempfile

from checks import check, finish  # tests/cli/checks.py

attain, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
case = sys.argv[3]
teaching = os.path.join(root, "models", "teaching_firms.yaml")
tmp = tempfile.mkdtemp(prefix="attain_isolation_")


def genuine(name, *extra):
    path = os.path.join(tmp, name)
    r = subprocess.run([attain, "run", teaching, "--runs", "8192", "--seed", "7", "--out", path,
                        *extra], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return path


def error_lines(stderr):
    """The lines of stderr that are attain's, without a sanitizer's report whose first
    frames are in libhdf5 (a crash of libhdf5's, isolated)."""
    lines = stderr.splitlines()
    if any("Sanitizer" in l for l in lines):
        frames = [l for l in lines if l.strip().startswith("#")][:3]
        if any("libhdf5" in f for f in frames):
            lines = [l for l in lines if l.startswith("attain")][-1:]
    return lines


def run(args, timeout=180):
    """(exit code, attain's stderr lines); a hang is exit code 'timeout'."""
    try:
        r = subprocess.run([attain, *args], capture_output=True, text=True, timeout=timeout,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", []
    return r.returncode, error_lines(r.stderr)


def clean(what, rc, lines, out=None):
    """Exit 0, or 2 with one 'attain' line; nothing left behind on an error."""
    ok = check(rc in (0, 2), f"{what}: exit {rc} {lines[:3]}")
    ok = check(len(lines) <= 1 and all(l.startswith("attain") for l in lines),
               f"{what}: stderr {lines[:3]}") and ok
    if rc == 2:
        ok = check(len(lines) == 1, f"{what}: exit 2 without an error line") and ok
        if out:
            left = [f for f in os.listdir(os.path.dirname(out))
                    if f.startswith(os.path.basename(out))]
            ok = check(not left, f"{what}: left {left}") and ok
    return ok


def corrupted(data, seed):
    rng = random.Random(seed)
    b = bytearray(data)
    if seed % 10 == 9:
        return bytes(b[:rng.randrange(len(b))])
    for _ in range(rng.randint(1, 8)):
        b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def corpus():
    data = open(genuine("genuine.h5"), "rb").read()
    paths = []
    for seed in range(200):
        p = os.path.join(tmp, f"c{seed:03d}.h5")
        open(p, "wb").write(corrupted(data, seed))
        paths.append(p)

    def one(p):
        d = os.path.join(tmp, "out_" + os.path.basename(p))
        os.mkdir(d)
        csv, html = os.path.join(d, "x.csv"), os.path.join(d, "r.html")
        return (p, run(["export", p, "--format", "csv", "--out", csv]), csv,
                run(["report", p, "--out", html]), html)

    counts = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for p, (rc_e, l_e), csv, (rc_r, l_r), html in pool.map(one, paths):
            clean(f"export {os.path.basename(p)}", rc_e, l_e, csv)
            clean(f"report {os.path.basename(p)}", rc_r, l_r, html)
            for rc, lines in ((rc_e, l_e), (rc_r, l_r)):
                key = "ok" if rc == 0 else "unsafe" if lines and "read safely" in lines[0] else rc
                counts[key] = counts.get(key, 0) + 1
    print("outcomes of export and report:", counts, flush=True)
    check(counts.get(2, 0) > 0, "some corrupted copies are refused by the reader")


def global_heap_objects(data):
    """(offset of each object's header) in the file's first global heap collection."""
    g = data.index(b"GCOL")
    size = struct.unpack("<Q", data[g + 8:g + 16])[0]
    p, out = g + 16, []
    while p < g + size - 16:
        index, length = struct.unpack("<H", data[p:p + 2])[0], \
            struct.unpack("<Q", data[p + 8:p + 16])[0]
        if index == 0:
            break
        out.append(p)
        p += 16 + (length + 7) // 8 * 8
    return out


H5PY_READ_ALL = """
import h5py, sys
with h5py.File(sys.argv[1], "r") as f:
    for k in f.attrs: f.attrs[k]
    def visit(name, obj):
        for k in obj.attrs: obj.attrs[k]
        if isinstance(obj, h5py.Dataset): obj[()]
    f.visititems(visit)
"""


def libhdf5_crash():
    part0 = genuine("part0.h5", "--run-range", "0:4096")
    genuine_part1 = genuine("part1.h5", "--run-range", "4096:8192")
    data = open(part0, "rb").read()
    crashed = 0
    for n, at in enumerate(global_heap_objects(data)[:14]):
        b = bytearray(data)
        b[at + 8 + 3] = 0xEA  # the object's size, 2^40 larger
        bad = os.path.join(tmp, f"heap{n}.h5")
        open(bad, "wb").write(bytes(b))
        h5py = subprocess.run(["/usr/bin/python3", "-c", H5PY_READ_ALL, bad],
                              capture_output=True, timeout=60)
        if h5py.returncode >= 0:
            continue  # libhdf5 survives this one
        d = os.path.join(tmp, f"heap{n}_out")
        os.mkdir(d)
        verbs = {"export": ["export", bad, "--format", "csv", "--out", "export.csv"],
                 "report": ["report", bad, "--out", "report.html"],
                 "replay": ["replay", bad, "--run", "3"],
                 "merge": ["merge", bad, genuine_part1, "--out", "merge.h5"],
                 "given-data": ["sensitivity", teaching, "--given-data", bad]}
        for verb, args in verbs.items():
            args = [os.path.join(d, a) if a.startswith(verb) else a for a in args]
            rc, lines = run(args)
            clean(f"{verb} of object {n + 1}'s size", rc, lines, os.path.join(d, verb))
            # Attain reads some of the objects h5py crashed on: its child crashes in turn.
            crashed += rc == 2 and "could not be read safely" in lines[0] and \
                "crashed" in lines[0]
    print(f"{crashed} crashes of libhdf5 isolated", flush=True)
    check(crashed > 0, "libhdf5 crashed on none of the files (h5py); the test proves nothing")


{"corpus": corpus, "libhdf5_crash": libhdf5_crash}[case]()
finish(f"isolation {case}")
