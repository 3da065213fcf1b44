"""Checks `attain export` and the JSON documents of `--json` against docs/schema/.

Usage: /usr/bin/python3 export_test.py ATTAIN_BINARY REPO_ROOT CASE
CASE is one of:
  documents  every document (run, compare, sweep, search, sensitivity, the given-data
             sensitivity, summary, runs) validates against its schema (Draft 2020-12, the
             schemas themselves checked too); `export --format json` of a command's `--out`
             file prints exactly what the command's `--json` printed; the schemas refuse
             broken documents
  csv        every CSV table parses with Python's csv module and pandas: a row per
             observation, labels intact (Chinese, commas, quotes), numbers equal to the
             JSON document's to the last bit, NaN as an empty field, CRLF, --bom for Excel
  errors     bad options and parts a file lacks: exit 2, one line 'attain: error: ...'
             naming what would be valid, no output file and no temporary left; SIGINT
             while the output is written: exit 130, nothing left; an old output kept whole
Debian packages: python3-jsonschema, python3-pandas.
"""
import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time

import pandas as pd
from jsonschema import Draft202012Validator

from checks import check, finish  # tests/cli/checks.py

attain, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
case = sys.argv[3]
models = os.path.join(root, "models")
teaching = os.path.join(models, "teaching_firms.yaml")
as_written = os.path.join(root, "scenarios/teaching/as_written.yaml")
more_funding = os.path.join(root, "scenarios/teaching/more_funding.yaml")
ishigami = os.path.join(root, "tests/data/ishigami.yaml")
schema_dir = os.path.join(root, "docs/schema")

# A model whose labels need quoting in CSV: commas, double quotes, Chinese.
TRICKY = """model: tricky
description: labels that CSV must quote
time: {start: 2017, end: 2020}
levers:
  funding: {label: '财政投入, "万元"', unit: '万元, nominal', description: d, source: s, value: 3}
parameters:
  yield: {label: 产出率, unit: '1', description: d, source: s, dist: uniform, min: 2, max: 6}
stocks:
  firms: {label: 企业, unit: firms, description: d, source: s, initial: 40,
          change: yield * funding}
targets:
  - {name: firms_60, node: firms, year: 2020, op: ">=", threshold: 60,
     label: '企业达到60个, "高新"', source: plan}
  - {name: early, node: firms, year: 2019, op: "<", threshold: 50.5, label: 早期, source: plan}
"""



def attain_run(*args, cwd=None):
    """Runs attain; stdout and stderr decoded as UTF-8 with line ends as written (CRLF)."""
    r = subprocess.run([attain, *args], cwd=cwd, capture_output=True)
    r.stdout, r.stderr = r.stdout.decode("utf-8"), r.stderr.decode("utf-8")
    return r


def no_constants(name):
    raise ValueError(f"JSON holds {name}; non-finite numbers must be null")


def loads(text):
    return json.loads(text, parse_constant=no_constants)


def schema(name):
    with open(os.path.join(schema_dir, name + ".schema.json"), encoding="utf-8") as f:
        s = json.load(f)
    Draft202012Validator.check_schema(s)
    return Draft202012Validator(s)


def valid(doc, name, what):
    errors = list(schema(name).iter_errors(doc))
    for e in errors[:5]:
        print(f"  {what}: {e.json_path}: {e.message[:300]}")
    check(not errors, f"{what} validates against {name}.schema.json ({len(errors)} errors)")
    return not errors


def make_results(tmp):
    """Runs each command with --json and --out; returns {name: (h5 path, --json stdout)}."""
    tricky = os.path.join(tmp, "tricky.yaml")
    with open(tricky, "w", encoding="utf-8") as f:
        f.write(TRICKY)
    commands = {
        "run": ["run", teaching, "--scenario", as_written, "--scenario", more_funding,
                "--runs", "3000", "--seed", "3"],
        "tricky": ["run", tricky, "--runs", "2000", "--store", "full"],
        "compare": ["compare", teaching, "--scenario", as_written, "--scenario", more_funding,
                    "--runs", "3000"],
        "adaptive": ["run", tricky, "--runs", "40000", "--ci-width", "0.02"],
        "sweep": ["sweep", teaching, "--lever", "funding=0.5:2:4", "--runs", "2000"],
        "search": ["search", teaching, "--lever", "funding", "--target", "firms_70",
                   "--probability", "0.5", "--runs", "2000"],
        "unreachable": ["search", teaching, "--lever", "funding", "--target", "firms_70",
                        "--probability", "0.99", "--range", "0:1", "--runs", "2000"],
        "sensitivity": ["sensitivity", ishigami, "--rows", "512", "--resamples", "20"],
        "sensitivity_teaching": ["sensitivity", teaching, "--rows", "256", "--resamples", "20"],
    }
    out = {}
    for name, args in commands.items():
        h5 = os.path.join(tmp, name + ".h5")
        r = attain_run(*args, "--json", "--quiet", "--out", h5)
        check(r.returncode == 0, f"{name}: exit {r.returncode}, stderr {r.stderr.strip()}")
        out[name] = (h5, r.stdout)
    return out


def export(h5, fmt, *extra):
    r = attain_run("export", h5, "--format", fmt, *extra)
    check(r.returncode == 0, f"export {h5} {fmt} {extra}: exit {r.returncode}, {r.stderr.strip()}")
    return r.stdout


SCHEMA_OF = {"run": "run", "tricky": "run", "adaptive": "run", "compare": "compare",
             "sweep": "sweep", "search": "search", "unreachable": "search",
             "sensitivity": "sensitivity", "sensitivity_teaching": "sensitivity"}


def case_documents():
    names = sorted(f[:-len(".schema.json")] for f in os.listdir(schema_dir)
                   if f.endswith(".schema.json"))
    check(names == sorted(["run", "compare", "sweep", "search", "sensitivity",
                           "sensitivity-given-data", "summary", "runs"]),
          f"docs/schema holds one schema per document: {names}")
    seen = set()
    with tempfile.TemporaryDirectory() as tmp:
        results = make_results(tmp)
        for name, (h5, printed) in results.items():
            doc = loads(printed)
            kind = SCHEMA_OF[name]
            seen.add(kind)
            check(doc.get("schema") == "attain-" + kind and doc.get("version") == "1.0",
                  f"{name}: schema {doc.get('schema')} version {doc.get('version')}")
            valid(doc, kind, f"{name} --json")
            # The same document from the file, by construction: the same text.
            exported = export(h5, "json")
            check(exported == printed, f"{name}: export --format json prints what --json printed")
            out = os.path.join(tmp, name + ".json")
            export(h5, "json", "--out", out)
            with open(out, encoding="utf-8") as f:
                check(f.read() == printed, f"{name}: export --out holds the same document")
        # The parts every run file has besides its targets.
        for name in ("run", "tricky", "compare"):
            h5 = results[name][0]
            summary = loads(export(h5, "json", "--what", "summary"))
            seen.add("summary")
            valid(summary, "summary", f"{name} summary")
            runs = loads(export(h5, "json", "--what", "runs"))
            seen.add("runs")
            valid(runs, "runs", f"{name} runs")
            targets = loads(export(h5, "json", "--what", "targets"))
            valid(targets, "run", f"{name} --what targets")
        # compare --json without a results file: a whole document too (once refused for
        # lacking the actuals that only --out computed).
        r = attain_run("compare", teaching, "--scenario", as_written, "--scenario", more_funding,
                       "--runs", "3000", "--json", "--quiet")
        check(r.returncode == 0, f"compare --json without --out: exit {r.returncode}, {r.stderr.strip()}")
        if r.returncode == 0:
            valid(loads(r.stdout), "compare", "compare --json without --out")
        run = loads(results["run"][1])
        summary = loads(export(results["run"][0], "json", "--what", "summary"))
        check([s["name"] for s in summary["scenarios"]] == [s["name"] for s in run["scenarios"]],
              "summary: the run's scenarios")
        firms = [n["name"] for n in summary["nodes"]].index("firms")
        node = summary["scenarios"][0]["nodes"][firms]
        check(len(node["mean"]) == len(summary["time"]) == 4 and summary["time"][0] == 2017,
              "summary: one value per time")
        check(all(a <= q[2] <= b for a, q, b in zip(node["min"], node["quantiles"], node["max"])),
              "summary: min <= median <= max")
        # The tricky model stored every node (--store full): its rows in the runs document.
        runs = loads(export(results["tricky"][0], "json", "--what", "runs"))
        s0 = runs["scenarios"][0]
        check(runs["store"] == "full" and s0["rows"] == 2000 and s0["run"][:3] == [0, 1, 2],
              "runs: 2000 rows from run 0")
        check(s0["parameters"] == ["yield"] and s0["targets"] == ["firms_60", "early"],
              "runs: the parameter and target columns")
        check(all(2 <= y <= 6 for y in s0["parameter_values"][0]), "runs: yield in [2, 6]")
        run_tricky = loads(results["tricky"][1])
        hits = sum(v >= 60 for v in s0["target_values"][0])
        check(hits == run_tricky["scenarios"][0]["targets"][0]["hits"],
              "runs: the rows give the target's hits")
        # The given-data sensitivity document of a run's rows.
        r = attain_run("sensitivity", teaching, "--given-data", results["run"][0], "--json",
                       "--quiet")
        check(r.returncode == 0, f"given-data: exit {r.returncode}, {r.stderr.strip()}")
        if r.returncode == 0:
            seen.add("sensitivity-given-data")
            doc = loads(r.stdout)
            check(doc.get("schema") == "attain-sensitivity-given-data", "given-data: schema")
            valid(doc, "sensitivity-given-data", "given-data")
        check(seen == set(names), f"every schema exercised: {sorted(set(names) - seen)} not")
        # Adaptive: ci_width set, runs used below the ceiling.
        adaptive = loads(results["adaptive"][1])
        check(adaptive["ci_width"] == 0.02 and adaptive["scenarios"][0]["runs"] < 40000,
              "adaptive: ci_width and the runs used")
        unreachable = loads(results["unreachable"][1])
        check(unreachable["search"]["reachable"] is False and unreachable["search"]["level"] is None,
              "unreachable search: level null")

        # The schemas refuse broken documents.
        def refused(doc, name, what):
            check(not schema(name).is_valid(doc), f"{name}.schema.json refuses {what}")

        def mutated(doc, change):
            d = json.loads(json.dumps(doc))
            change(d)
            return d

        refused(mutated(run, lambda d: d.pop("seed")), "run", "a missing seed")
        refused(mutated(run, lambda d: d.update(extra=1)), "run", "an unknown field")
        refused(mutated(run, lambda d: d.update(version="2.0")), "run", "another version")
        refused(mutated(run, lambda d: d.update(schema="attain-compare")), "run", "another schema")
        refused(mutated(run, lambda d: d["scenarios"][0]["targets"][0].update(probability=1.5)),
                "run", "a probability above 1")
        refused(mutated(run, lambda d: d["scenarios"][0]["targets"][0].update(hits=-1)),
                "run", "a negative count")
        refused(mutated(run, lambda d: d["scenarios"][0]["targets"][0].update(hits=2.5)),
                "run", "a fractional count")
        refused(mutated(run, lambda d: d["scenarios"][0]["targets"][0].update(op="=>")),
                "run", "an unknown comparison")
        refused(mutated(run, lambda d: d["scenarios"][0]["joint"].pop("ci_low")),
                "run", "a joint without ci_low")
        refused(mutated(run, lambda d: d.update(scenarios=[])), "run", "no scenarios")
        compare = loads(results["compare"][1])
        refused(mutated(compare, lambda d: d["comparisons"][0]["targets"][0].pop("value_difference")),
                "compare", "a target without its value difference")
        refused(mutated(compare, lambda d: d["comparisons"][0]["joint"].update(
            value_difference={"mean": 0, "ci_low": 0, "ci_high": 0, "sd": 0})),
            "compare", "a joint with a value difference")
        refused(mutated(compare, lambda d: d["comparisons"][0]["targets"][0].update(p_value=None)),
                "compare", "a null p-value")
        sens = loads(results["sensitivity"][1])
        met = next(i for i, e in enumerate(sens["sensitivity"]) if e["output"] == "met")

        def met_with_means(d):
            f = d["sensitivity"][met]["factors"][0]
            for k in ("low", "mid", "high"):
                f[f"mean_{k}_third"] = f.pop(f"p_{k}_third")

        refused(mutated(sens, met_with_means), "sensitivity", "a 'met' output with mean_ thirds")
        refused(mutated(sens, lambda d: d["sensitivity"][met].update(output="both")),
                "sensitivity", "an unknown output")
        search = loads(results["search"][1])
        refused(mutated(search, lambda d: d["search"].update(level=None)), "search",
                "a reachable search without a level")
        refused(mutated(summary, lambda d: d["scenarios"][0]["nodes"][0]["sd"].__setitem__(0, -1)),
                "summary", "a negative sd")


def read_csv_text(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def same_number(field, value):
    """A CSV field holds exactly the JSON number (or is empty for null)."""
    if value is None:
        return field == ""
    return field != "" and float(field) == float(value)


def case_csv():
    with tempfile.TemporaryDirectory() as tmp:
        results = make_results(tmp)
        for name, (h5, _) in results.items():
            text = export(h5, "csv")
            check(text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""),
                  f"{name}: CRLF record ends")
            frame = pd.read_csv(io.StringIO(text))
            check(len(frame) > 0, f"{name}: pandas reads {len(frame)} rows")

        # Targets: one row per scenario and target, then the joint, labels intact.
        h5, printed = results["tricky"]
        doc = loads(printed)
        head, rows = read_csv_text(export(h5, "csv"))
        check(head == ["scenario", "target", "label", "node", "year", "op", "threshold",
                       "probability", "ci_low", "ci_high", "hits", "runs", "joint"],
              f"targets header {head}")
        check(len(rows) == 3, f"targets: 2 targets and the joint, got {len(rows)}")
        col = {c: i for i, c in enumerate(head)}
        for row, t in zip(rows, doc["scenarios"][0]["targets"]):
            check(row[col["label"]] == t["label"], f"label intact: {row[col['label']]!r}")
            for k in ("probability", "ci_low", "ci_high", "threshold", "year"):
                check(same_number(row[col[k]], t[k]), f"{t['name']} {k}: {row[col[k]]} == {t[k]}")
            check(int(row[col["hits"]]) == t["hits"] and row[col["joint"]] == "false",
                  f"{t['name']}: hits and joint flag")
        check(rows[0][col["label"]] == '企业达到60个, "高新"', "the Chinese label with a comma and quotes")
        joint = doc["scenarios"][0]["joint"]
        check(rows[2][col["target"]] == "all targets" and rows[2][col["joint"]] == "true"
              and rows[2][col["year"]] == "" and same_number(rows[2][col["probability"]],
                                                           joint["probability"]),
              f"the joint row {rows[2]}")
        frame = pd.read_csv(io.StringIO(export(h5, "csv")))
        check(frame["label"].tolist()[0] == '企业达到60个, "高新"', "pandas: the label")
        check(frame["joint"].dtype == bool and frame["joint"].tolist() == [False, False, True],
              f"pandas reads the joint flag as bool: {frame['joint'].dtype}")
        check(math.isnan(frame["year"].iloc[2]), "pandas: the joint's year is NaN")
        check(frame["probability"].tolist()[0] == doc["scenarios"][0]["targets"][0]["probability"],
              "pandas: the probability to the last bit")

        # --bom: Excel's UTF-8 mark, which pandas reads away with utf-8-sig.
        out = os.path.join(tmp, "t.csv")
        export(h5, "csv", "--bom", "--out", out)
        with open(out, "rb") as f:
            raw = f.read()
        check(raw.startswith(b"\xef\xbb\xbfscenario,"), "--bom: the file starts with EF BB BF")
        check(raw[3:].decode("utf-8") == export(h5, "csv"), "--bom: otherwise the same bytes")
        frame = pd.read_csv(out, encoding="utf-8-sig")
        check(list(frame.columns)[0] == "scenario", "pandas reads the BOM file's header")

        # Summary: every node at every time, equal to the summary document.
        summary = loads(export(h5, "json", "--what", "summary"))
        head, rows = read_csv_text(export(h5, "csv", "--what", "summary"))
        check(head == ["scenario", "node", "label", "unit", "time", "mean", "sd", "min", "max",
                       "q05", "q25", "q50", "q75", "q95"], f"summary header {head}")
        check(len(rows) == len(summary["nodes"]) * len(summary["time"]),
              f"summary: {len(rows)} rows, one per node and time")
        i = 0
        exact = True
        for n, node in enumerate(summary["scenarios"][0]["nodes"]):
            for k, t in enumerate(summary["time"]):
                row = rows[i]
                i += 1
                exact &= row[1] == node["name"] and row[2] == summary["nodes"][n]["label"]
                exact &= same_number(row[4], t) and same_number(row[5], node["mean"][k])
                exact &= same_number(row[6], node["sd"][k]) and same_number(row[11], node["quantiles"][k][2])
        check(exact, "summary: the CSV's numbers are the document's, bit for bit")
        funding = [r for r in rows if r[1] == "funding"][0]
        check(funding[2] == '财政投入, "万元"' and funding[3] == "万元, nominal",
              f"summary: label and unit intact {funding[2:4]}")

        # Runs: a column per parameter and per target, the runs document's values.
        runs = loads(export(h5, "json", "--what", "runs"))["scenarios"][0]
        head, rows = read_csv_text(export(h5, "csv", "--what", "runs"))
        check(head == ["scenario", "run", "parameter:yield", "target:firms_60", "target:early"],
              f"runs header {head}")
        check(len(rows) == 2000 and rows[5][1] == "5", "runs: 2000 rows, run indices")
        check(all(same_number(r[2], v) for r, v in zip(rows, runs["parameter_values"][0])),
              "runs: parameters in full precision")
        check(all(same_number(r[3], v) for r, v in zip(rows, runs["target_values"][0])),
              "runs: target values in full precision")

        # Comparisons, sweep, search and sensitivity against their documents.
        compare = loads(results["compare"][1])
        head, rows = read_csv_text(export(results["compare"][0], "csv"))
        col = {c: i for i, c in enumerate(head)}
        c0 = compare["comparisons"][0]
        check(len(rows) == len(c0["targets"]) + 1, "comparisons: targets and the joint")
        for k in ("difference", "ci_low", "ci_high", "p_value", "helped", "hurt"):
            check(same_number(rows[0][col[k]], c0["targets"][0][k]), f"comparisons: {k}")
        check(same_number(rows[0][col["value_difference"]], c0["targets"][0]["value_difference"]["mean"]),
              "comparisons: the value difference")
        check(rows[-1][col["joint"]] == "true" and rows[-1][col["value_difference"]] == "",
              "comparisons: the joint has no value difference")
        sweep = loads(results["sweep"][1])
        head, rows = read_csv_text(export(results["sweep"][0], "csv"))
        check(head[:3] == ["scenario", "point", "level_funding"], f"sweep header {head}")
        pts = sweep["sweep"]["points"]
        check(len(rows) == len(pts) * 2, "sweep: a row per point and target, and the joint")
        check(all(same_number(rows[2 * q][head.index("probability")], p["targets"][0]["probability"])
                  and same_number(rows[2 * q][2], p["levels"]["funding"]) for q, p in enumerate(pts)),
              "sweep: levels and probabilities")
        search = loads(results["search"][1])["search"]
        head, rows = read_csv_text(export(results["search"][0], "csv"))
        check(len(rows) == search["evaluations"], "search: a row per evaluation")
        answer = [r for r in rows if r[head.index("answer")] == "true"]
        check(len(answer) == 1 and same_number(answer[0][head.index("level")], search["level"]),
              "search: the answer's row")
        sens = loads(results["sensitivity"][1])
        head, rows = read_csv_text(export(results["sensitivity"][0], "csv"))
        check(head[:6] == ["scenario", "target", "output", "factor", "factor_kind", "parameters"],
              f"sensitivity header {head}")
        n = sum(len(e["factors"]) for e in sens["sensitivity"])
        check(len(rows) == n, f"sensitivity: a row per output and factor ({len(rows)} of {n})")
        e0 = sens["sensitivity"][0]
        for k in ("S1", "S1_low", "ST", "ST_high"):
            check(same_number(rows[0][head.index(k)], e0["factors"][0][k]), f"sensitivity: {k}")


def case_errors():
    with tempfile.TemporaryDirectory() as tmp:
        h5 = os.path.join(tmp, "r.h5")
        r = attain_run("run", teaching, "--runs", "1000", "--quiet", "--out", h5)
        check(r.returncode == 0, f"run: {r.stderr}")
        summary_only = os.path.join(tmp, "s.h5")
        r = attain_run("run", teaching, "--runs", "1000", "--quiet", "--store", "summary",
                       "--out", summary_only)
        check(r.returncode == 0, f"run --store summary: {r.stderr}")
        sweep = os.path.join(tmp, "w.h5")
        r = attain_run("sweep", teaching, "--lever", "funding=1:2:2", "--runs", "500", "--quiet",
                       "--out", sweep)
        check(r.returncode == 0, f"sweep: {r.stderr}")
        not_h5 = os.path.join(tmp, "model.yaml")
        with open(not_h5, "w") as f:
            f.write("model: x\n")
        out = os.path.join(tmp, "out.csv")
        for args, expect in [
            ([h5, "--format", "xml"], "valid: 'csv' or 'json'"),
            ([h5, "--format", "csv", "--what", "target"], "did you mean 'targets'"),
            ([h5, "--format", "csv", "--what", "comparisons"],
             "has no comparisons (it was written by 'attain run'); it has targets, summary and runs"),
            ([summary_only, "--format", "csv", "--what", "runs"], "has no runs"),
            ([sweep, "--format", "json", "--what", "targets"], "it has sweep"),
            ([h5, "--format", "json", "--bom"], "--bom applies to --format csv"),
            ([os.path.join(tmp, "none.h5"), "--format", "csv"], "none.h5"),
            ([not_h5, "--format", "csv"], "not an HDF5 file"),
            ([h5, "--format", "csv", "--out", tmp], "is a directory"),
            ([h5, "--format", "csv", "--out", h5], "would replace it"),
            ([h5, "--format", "csv", "--out", os.path.join(tmp, "no", "x.csv")], "cannot create"),
            ([h5, "--format", "csv", "--out", ""], "--out needs a file name"),
            ([h5], "--format is required"),
        ]:
            r = attain_run("export", *args, "--out", out) if "--out" not in args else \
                attain_run("export", *args)
            lines = r.stderr.splitlines()
            check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("attain: error: ")
                  and expect in lines[0],
                  f"{args}: exit {r.returncode}, stderr {r.stderr!r} (expected {expect!r})")
            check(r.stdout == "", f"{args}: nothing on stdout")
            check(not os.path.exists(out), f"{args}: no output file")
        left = sorted(f for f in os.listdir(tmp) if ".tmp-" in f)
        check(left == [], f"no temporary files left: {left}")
        check(os.path.getsize(h5) > 0, "the results file is untouched")
        # A signal while the output is written: exit 130, the temporary removed, no file.
        big = os.path.join(tmp, "big.h5")
        r = attain_run("run", teaching, "--runs", "1000000", "--quiet", "--out", big)
        check(r.returncode == 0, f"run 1e6: {r.stderr}")
        p = subprocess.Popen([attain, "export", big, "--format", "csv", "--what", "runs",
                              "--out", out], stderr=subprocess.PIPE, cwd=tmp)
        deadline = time.time() + 60
        while p.poll() is None and time.time() < deadline and \
                not any(f.startswith("out.csv.tmp-") for f in os.listdir(tmp)):
            time.sleep(0.002)
        check(p.poll() is None, "the export still writes when its temporary appears")
        p.send_signal(signal.SIGINT)
        err = p.communicate()[1].decode()
        check(p.returncode == 130 and err == "attain: error: interrupted; no output written\n",
              f"SIGINT: exit {p.returncode}, stderr {err!r}")
        check(not os.path.exists(out) and not [f for f in os.listdir(tmp) if ".tmp-" in f],
              f"SIGINT: no output and no temporary: {os.listdir(tmp)}")
        # An existing output stays as it was when the export fails.
        with open(out, "w") as f:
            f.write("old\n")
        r = attain_run("export", h5, "--format", "csv", "--what", "sweep", "--out", out)
        check(r.returncode == 2, "a part the file lacks: exit 2")
        with open(out) as f:
            check(f.read() == "old\n", "the old output is kept whole")


cases = {"documents": case_documents, "csv": case_csv, "errors": case_errors}
if case not in cases:
    sys.exit(f"unknown case '{case}'; valid: {', '.join(cases)}")
cases[case]()
finish(case)
