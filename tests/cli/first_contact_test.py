"""What a new user meets first: the terminal tables, --version, replay from a results
file, --store without --out, and the legend of `attain graph --format dot`.

Usage: /usr/bin/python3 first_contact_test.py ATTAIN_BINARY REPO_ROOT CASE
CASE: table_width, version, replay_results, store_needs_out, graph_legend.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata

from checks import check, finish  # tests/cli/checks.py

attain, root, case = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
guandu = os.path.join(root, "models/guandu_innovation.yaml")
guandu_scenarios = [os.path.join(root, f"scenarios/guandu/{s}.yaml")
                    for s in ("baseline", "plan", "austerity", "boost", "talent_first")]



def cli(*args, cwd=None):
    return subprocess.run([attain, *args], capture_output=True, text=True, cwd=cwd)


def columns(line):
    """Terminal columns of a line: East Asian wide and fullwidth characters take two."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in line)


def expect_error(r, text, what):
    """Exit code 2 and one line on stderr holding `text`."""
    check(r.returncode == 2, f"{what}: exit {r.returncode}, stderr {r.stderr!r}")
    check(r.stderr.count("\n") == 1 and "error" in r.stderr,
          f"{what}: not one error line: {r.stderr!r}")
    check(text in r.stderr, f"{what}: {text!r} not in {r.stderr!r}")


def case_table_width():
    scen = [a for s in guandu_scenarios for a in ("--scenario", s)]
    r = cli("run", guandu, *scen, "--runs", "2000", "--quiet")
    check(r.returncode == 0, f"run: exit {r.returncode}: {r.stderr}")
    lines = r.stdout.splitlines()
    for line in lines:
        check(columns(line) <= 100, f"run: {columns(line)} columns: {line}")
    out = r.stdout
    # Every target name whole, every scenario named, and the labels' Chinese intact.
    for t in ("t01_rd_intensity", "t05_tech_services_revenue", "t14_innovation_teams",
              "all targets together"):
        check(t in out, f"run: target {t} missing")
    for s in ("baseline", "plan", "austerity", "boost", "talent_first"):
        check(re.search(rf"\b{s}\b", out) is not None, f"run: scenario {s} missing")
    check("全社会R&D投入强度" in out, "run: the first label's Chinese is not printed")
    # Probabilities in percent, no scientific notation.
    check(re.search(r"\d+\.\d % \[\d+\.\d, \d+\.\d\]", out) is not None,
          "run: no cell like '29.1 % [29.0, 29.2]'")
    check(re.search(r"\de[+-]\d\d", out) is None, "run: scientific notation in the table")
    # More scenarios than fit side by side come in more than one block.
    check(sum(1 for line in lines if line.startswith("target ")) >= 2,
          "run: five scenarios in one block cannot fit 100 columns")

    r = cli("compare", guandu, *scen, "--runs", "2000", "--quiet")
    check(r.returncode == 0, f"compare: exit {r.returncode}: {r.stderr}")
    for line in r.stdout.splitlines():
        check(columns(line) <= 100, f"compare: {columns(line)} columns: {line}")
    check("t05_tech_services_revenue" in r.stdout, "compare: a target name is missing")
    check(re.search(r"[+-]\d+\.\d \[[+-]?\d+\.\d, [+-]?\d+\.\d\]", r.stdout) is not None,
          "compare: no difference in percentage points with its interval")


def case_version():
    r = cli("--version")
    check(r.returncode == 0, f"--version: exit {r.returncode}")
    m = re.fullmatch(r"attain (\d+\.\d+\.\d+) \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)\n",
                     r.stdout)
    check(m is not None, f"--version: {r.stdout!r}")
    git = shutil.which("git")
    head = subprocess.run([git, "-C", root, "rev-parse", "--short=12", "HEAD"],
                          capture_output=True, text=True) if git else None
    if m and head and head.returncode == 0:
        check(m.group(2).startswith(head.stdout.strip()),
              f"--version names {m.group(2)}, the checkout is at {head.stdout.strip()} "
              "(rebuild after a commit)")
    # The script that writes the commit, run on a folder that is no checkout, on a
    # clean checkout and on a dirty one.
    script = os.path.join(root, "cli/build_commit.cmake")
    with tempfile.TemporaryDirectory() as tmp:
        def commit_of(source):
            out = os.path.join(tmp, "build_commit.cpp")
            p = subprocess.run(["cmake", f"-DSOURCE_DIR={source}", f"-DOUTPUT={out}", "-P",
                                script], capture_output=True, text=True)
            check(p.returncode == 0, f"build_commit.cmake: {p.stderr}")
            with open(out, encoding="utf-8") as f:
                found = re.search(r'return "([^"]*)";', f.read())
            return found.group(1) if found else None

        plain = os.path.join(tmp, "plain")
        os.makedirs(plain)
        check(commit_of(plain) == "unknown", "outside a git checkout: not 'unknown'")
        if git:
            repo = os.path.join(tmp, "repo")
            os.makedirs(repo)
            env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                       GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
            for args in (["init", "-q"], ["add", "a.txt"], ["commit", "-q", "-m", "a"]):
                if args[0] == "add":
                    with open(os.path.join(repo, "a.txt"), "w") as f:
                        f.write("a\n")
                subprocess.run([git, "-C", repo, *args], check=True, env=env,
                               capture_output=True)
            sha = subprocess.run([git, "-C", repo, "rev-parse", "--short=12", "HEAD"],
                                 capture_output=True, text=True).stdout.strip()
            check(commit_of(repo) == sha, f"clean checkout: {commit_of(repo)} != {sha}")
            # A folder inside a checkout is not the checkout.
            os.makedirs(os.path.join(repo, "inner"))
            check(commit_of(os.path.join(repo, "inner")) == "unknown",
                  "a folder inside another checkout took its commit")
            with open(os.path.join(repo, "a.txt"), "w") as f:
                f.write("b\n")
            check(commit_of(repo) == sha + "-dirty", "modified checkout: not marked -dirty")
            # Rewritten only when the text changes: the file keeps its time otherwise.
            out = os.path.join(tmp, "build_commit.cpp")
            os.utime(out, (1, 1))
            commit_of(repo)
            check(os.stat(out).st_mtime == 1, "an unchanged commit rewrote the source")


def case_replay_results():
    with tempfile.TemporaryDirectory() as tmp:
        # A copy of the model and two scenarios, boost extending plan: the files on disk
        # change after the run, and the replay from the results file must not notice.
        shutil.copy(guandu, os.path.join(tmp, "model.yaml"))
        os.makedirs(os.path.join(tmp, "sc"))
        for s in ("plan", "boost"):
            shutil.copy(os.path.join(root, f"scenarios/guandu/{s}.yaml"),
                        os.path.join(tmp, "sc", f"{s}.yaml"))
        out = os.path.join(tmp, "r.h5")
        r = cli("run", "model.yaml", "--scenario", "sc/plan.yaml", "--scenario", "sc/boost.yaml",
                "--runs", "600", "--seed", "7", "--store", "summary", "--out", out, "--quiet",
                cwd=tmp)
        check(r.returncode == 0, f"run: exit {r.returncode}: {r.stderr}")
        expected = {}
        for scenario, run in (("plan", "0"), ("boost", "123"), ("boost", "599")):
            for fmt in ([], ["--json"]):
                direct = cli("replay", "model.yaml", "--scenario", f"sc/{scenario}.yaml",
                             "--run", run, "--seed", "7", *fmt, cwd=tmp)
                check(direct.returncode == 0, f"replay model: {direct.stderr}")
                expected[(scenario, run, bool(fmt))] = direct.stdout
        # Change the files on disk: boost's funding and the model's first lever.
        with open(os.path.join(tmp, "sc", "plan.yaml"), "a", encoding="utf-8") as f:
            f.write("\n")
        with open(os.path.join(tmp, "sc", "boost.yaml"), encoding="utf-8") as f:
            boost = f.read()
        with open(os.path.join(tmp, "sc", "boost.yaml"), "w", encoding="utf-8") as f:
            f.write(boost.replace("scale: 1.5", "scale: 3"))
        check(boost.count("scale: 1.5") > 0, "boost.yaml no longer has 'scale: 1.5'")
        changed = cli("replay", "model.yaml", "--scenario", "sc/boost.yaml", "--run", "123",
                      "--seed", "7", cwd=tmp)
        check(changed.stdout != expected[("boost", "123", False)],
              "changing boost.yaml did not change the replay from files")
        for (scenario, run, as_json), text in expected.items():
            r = cli("replay", out, "--scenario", scenario, "--run", run,
                    *(["--json"] if as_json else []), cwd=tmp)
            check(r.returncode == 0, f"replay {scenario} {run}: exit {r.returncode}: {r.stderr}")
            check(r.stdout == text,
                  f"replay of {scenario} run {run} from the file differs from the model's:\n"
                  f"{r.stdout[:400]}\n---\n{text[:400]}")

        expect_error(cli("replay", out, "--run", "1"), "name one with --scenario NAME",
                     "two scenarios, none named")
        expect_error(cli("replay", out, "--run", "1", "--scenario", "boots"),
                     "did you mean 'boost'", "unknown scenario")
        expect_error(cli("replay", out, "--run", "600", "--scenario", "plan"),
                     "it holds runs 0 to 599", "run past the end")
        expect_error(cli("replay", out, "--run", "1", "--scenario", "plan", "--seed", "7"),
                     "leave out --seed", "--seed with a results file")

        # A file written by another engine version is refused.
        import h5py
        other = os.path.join(tmp, "other.h5")
        shutil.copy(out, other)
        with h5py.File(other, "r+") as f:
            f.attrs["engine_version"] = "0.0.1"
        version = re.search(r"attain (\S+)", cli("--version").stdout).group(1)
        r = cli("replay", other, "--run", "1", "--scenario", "plan")
        expect_error(r, "written by attain 0.0.1", "another engine version")
        check(f"this is attain {version}" in r.stderr, f"the version is not named: {r.stderr}")
        check(r.stdout == "", "output despite the error")

        # A model run as written (no scenario file) replays as scenario 'default'.
        plain = os.path.join(tmp, "plain.h5")
        r = cli("run", "model.yaml", "--runs", "50", "--store", "summary", "--out", plain,
                "--quiet", cwd=tmp)
        check(r.returncode == 0, f"run without scenarios: {r.stderr}")
        r = cli("replay", plain, "--run", "3", cwd=tmp)
        check(r.returncode == 0 and "/ default: run 3 with seed 1" in r.stdout,
              f"replay of 'default': {r.stderr}{r.stdout[:200]}")

        # A sweep's evaluations are not numbered ensemble runs.
        sweep = os.path.join(tmp, "sweep.h5")
        r = cli("sweep", "model.yaml", "--lever", "fiscal_st_index=0.5:1.5:2", "--runs", "50",
                "--out", sweep, "--quiet", cwd=tmp)
        check(r.returncode == 0, f"sweep: {r.stderr}")
        expect_error(cli("replay", sweep, "--run", "1"), "replay takes a file of 'attain run'",
                     "replay of a sweep")


def case_store_needs_out():
    model = os.path.join(root, "models/teaching_firms.yaml")
    scen = ["--scenario", os.path.join(root, "scenarios/teaching/as_written.yaml"),
            "--scenario", os.path.join(root, "scenarios/teaching/more_funding.yaml")]
    with tempfile.TemporaryDirectory() as tmp:
        for verb in ("run", "compare"):
            for store in ("full", "targets"):
                r = cli(verb, model, *scen, "--runs", "100", "--store", store, "--quiet", cwd=tmp)
                expect_error(r, f"--store {store} keeps per-run data in the results file; add "
                             "--out FILE.h5", f"{verb} --store {store} without --out")
                check(r.stdout == "", f"{verb} --store {store}: output despite the error")
            # 'summary' keeps no per-run data: the same as without --store.
            r = cli(verb, model, *scen, "--runs", "100", "--store", "summary", "--quiet", cwd=tmp)
            check(r.returncode == 0, f"{verb} --store summary without --out: {r.stderr}")
            out = os.path.join(tmp, f"{verb}.h5")
            r = cli(verb, model, *scen, "--runs", "100", "--store", "full", "--out", out,
                    "--quiet", cwd=tmp)
            check(r.returncode == 0 and os.path.exists(out), f"{verb} --store full --out: {r.stderr}")
        check(sorted(os.listdir(tmp)) == ["compare.h5", "run.h5"],
              f"files left: {sorted(os.listdir(tmp))}")


def case_graph_legend():
    for name in ("teaching_firms", "all_constructs", "guandu_innovation"):
        r = cli("graph", os.path.join(root, f"models/{name}.yaml"), "--format", "dot")
        check(r.returncode == 0, f"graph {name}: {r.stderr}")
        dot = r.stdout
        check("subgraph cluster_legend {" in dot, f"graph {name}: no legend cluster")
        check('legend_lever [label="lever: policy input", shape=invhouse];' in dot,
              f"graph {name}: no lever entry in the legend")
        check('legend_from -> legend_to [label="same step"];' in dot,
              f"graph {name}: no same-step edge in the legend")
        if name == "all_constructs":
            for entry in ('shape=diamond', 'shape=octagon', 'shape=box', 'peripheries=2',
                          'style=dashed, label="earlier step"'):
                check(entry in dot.split("subgraph cluster_legend {")[1].split("}")[0],
                      f"graph {name}: the legend lacks {entry}")
        svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
        check(svg.returncode == 0 and svg.stderr == "",
              f"graph {name}: dot -Tsvg: exit {svg.returncode}, {svg.stderr}")
        check("<title>cluster_legend</title>" in svg.stdout, f"graph {name}: no legend in the SVG")


cases = {"table_width": case_table_width, "version": case_version,
         "replay_results": case_replay_results, "store_needs_out": case_store_needs_out,
         "graph_legend": case_graph_legend}
if case not in cases:
    sys.exit(f"unknown case {case!r}; valid: {', '.join(cases)}")
cases[case]()
finish(case)
