"""Issue 22: error lines that no file can forge or flood, line numbers of LF-CR files, a
label with an entity drawn with nothing on stderr, and the address-space limit (ulimit -v)
counted by the memory estimate made before a run.

Usage: /usr/bin/python3 messages_test.py ATTAIN_BINARY REPO_ROOT CASE
CASE: control_characters, long_line, lf_cr_lines, entity_label, address_space_limit.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile

from checks import check, finish  # tests/cli/checks.py

attain, root, case = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]


def cli(*args, cwd=None, preexec_fn=None):
    return subprocess.run([attain, *args], capture_output=True, cwd=cwd, preexec_fn=preexec_fn)


def model_text(label="a quantity", steps=3, brk="\n", chain=0):
    lines = ["model: m", "description: d", f"time: {{start: 0, end: {steps}}}", "parameters:",
             "  p0:", f"    label: \"{label}\"", "    unit: u", "    description: d",
             "    source: s", "    dist: uniform", "    min: 0", "    max: 1", "auxiliaries:",
             "  a0:", "    label: aux", "    unit: u", "    description: d",
             "    formula: p0 * 2"]
    for i in range(1, chain + 1):
        lines += [f"  a{i}:", "    label: aux", "    unit: u", "    description: d",
                  f"    formula: a{i - 1} + p0"]
    lines += ["targets:", "  - name: t", "    node: a0", "    op: \">=\"",
             "    threshold: 1", "    label: the target", "    source: s"]
    return brk.join(lines) + brk


def one_clean_line(r, what):
    err = r.stderr
    check(r.returncode == 2, f"{what}: rc {r.returncode}")
    check(err.endswith(b"\n") and err.count(b"\n") == 1, f"{what}: one line: {err[:300]!r}")
    check(not any(b < 0x20 and b != 0x0A for b in err), f"{what}: a control character: {err[:300]!r}")
    check(b"\xc2\x9b" not in err and b"\xc2\x85" not in err, f"{what}: a C1 control")
    return err


def control_characters(tmp):
    # A file name is text from elsewhere like a results file's strings: every error passes
    # through one printer, whatever its source.
    forged = "x\x1b[2J\x07\r\nmodel.yaml:1:1: error: forged\u009b1m\u0085.h5"
    r = cli("report", os.path.join(tmp, forged), "--out", os.path.join(tmp, "r.html"))
    err = one_clean_line(r, "a missing file")
    check(b"\\x1b[2J\\x07\\r\\nmodel.yaml:1:1" in err, f"escapes shown: {err!r}")
    with open(os.path.join(tmp, forged), "wb") as f:
        f.write(b"not HDF5")
    one_clean_line(cli("export", os.path.join(tmp, forged), "--out", os.path.join(tmp, "o.csv")),
                   "a file that is not HDF5")
    # The position prefix stays as it is.
    path = os.path.join(tmp, "m.yaml")
    with open(path, "w") as f:
        f.write(model_text().replace("    formula: p0 * 2", "    formula: \"p0 *\x1b[31m\"")
                .replace("label: \"a quantity\"", "label: \"a\\e[31m\\r\\nm.yaml:9:9: error: x\""))
    err = one_clean_line(cli("run", path), "a model")
    check(err.startswith(path.encode() + b":"), f"file:line:col: {err!r}")


def long_line(tmp):
    for unit in ("x", "财", "a\x1b"):
        name = unit * (100000 // len(unit.encode()))
        r = cli("report", os.path.join(tmp, name + ".h5"), "--out", os.path.join(tmp, "r.html"))
        err = one_clean_line(r, f"a long name of {unit!r}")
        check(len(err) <= 4001, f"{unit!r}: {len(err)} bytes, more than 4,000")
        check(err.rstrip(b"\n").endswith(b"..."), f"{unit!r}: marked as cut")
        try:
            err.decode("utf-8")
        except UnicodeDecodeError as e:
            check(False, f"{unit!r}: cut inside a character: {e}")


def lf_cr_lines(tmp):
    for name, brk in (("lf", "\n"), ("crlf", "\r\n"), ("lfcr", "\n\r"), ("cr", "\r")):
        path = os.path.join(tmp, name + ".yaml")
        with open(path, "w", newline="") as f:
            f.write(model_text(brk=brk).replace("    unit: u", "    colour: blue", 1))
        r = cli("run", path)
        check(r.returncode == 2 and f"{path}:7:5: error:".encode() in r.stderr,
              f"{name}: the error on line 7: {r.stderr!r}")


def entity_label(tmp):
    path = os.path.join(tmp, "m.yaml")
    with open(path, "w") as f:
        f.write(model_text(label="&#xD800; &amp; x"))
    out = os.path.join(tmp, "m.h5")
    r = cli("run", path, "--runs", "100", "--out", out)
    check(r.returncode == 0, f"run: {r.stderr!r}")
    html = os.path.join(tmp, "m.html")
    r = cli("report", out, "--out", html)
    check(r.returncode == 0 and r.stderr == b"", f"report: rc {r.returncode}, stderr {r.stderr!r}")
    with open(html, "rb") as f:
        page = f.read()
    # The SVG inside the page's JSON, with "&" written as \u0026.
    check(b"\\u0026amp;#xD800; \\u0026amp;amp; x" in page, "the label drawn as written")
    r = cli("graph", path)
    check(r.returncode == 0 and b"&amp;#xD800; &amp;amp; x" in r.stdout, f"graph: {r.stdout!r}")
    if shutil.which("dot"):
        d = subprocess.run(["dot", "-Tsvg"], input=r.stdout, capture_output=True)
        check(d.returncode == 0 and d.stderr == b"", f"dot -Tsvg: {d.stderr!r}")
    # A "\uD800" escape in YAML: refused with a line, or drawn with nothing on stderr.
    with open(path, "w") as f:
        f.write(model_text(label="\\uD800"))
    r = cli("graph", path)
    check(r.returncode in (0, 2) and (r.returncode == 0 or b"m.yaml:6:" in r.stderr),
          f"\\uD800: rc {r.returncode}: {r.stderr!r}")


def sanitized():
    """ASan reserves terabytes of address space: it cannot run under a low RLIMIT_AS."""
    if "ASAN_OPTIONS" in os.environ:
        return True
    ldd = subprocess.run(["ldd", attain], capture_output=True, text=True).stdout
    return "libasan" in ldd


def address_space_limit(tmp):
    if sanitized():
        print("skipped: an AddressSanitizer build cannot run under RLIMIT_AS")
        check(True, "skipped")
        return
    path = os.path.join(tmp, "long.yaml")
    with open(path, "w") as f:
        # 4 nodes of 100,001 steps: at least 2.6 GiB with 2 threads (the estimate), less
        # than most machines' MemAvailable but more than the limit.
        f.write(model_text(steps=100000, chain=3))
    limit = 2 << 30

    def low_limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    out = os.path.join(tmp, "long.h5")
    r = cli("run", path, "--store", "full", "--out", out, "--threads", "2", preexec_fn=low_limit)
    err = r.stderr.decode("utf-8", "replace")
    check(r.returncode == 2, f"refused before the run (rc 2), got {r.returncode}: {err}")
    check("address-space limit (ulimit -v) of 2048 MiB" in err, f"names the limit: {err}")
    check(not os.path.exists(out), "no results file")


cases = {"control_characters": control_characters, "long_line": long_line,
         "lf_cr_lines": lf_cr_lines, "entity_label": entity_label,
         "address_space_limit": address_space_limit}
with tempfile.TemporaryDirectory() as tmp:
    cases[case](tmp)
finish(case)
