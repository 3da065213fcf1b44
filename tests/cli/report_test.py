"""Checks `attain report` in a real browser: Debian's chromium, headless.

Usage: /usr/bin/python3 report_test.py ATTAIN_BINARY REPO_ROOT BUILD_DIR CASE
CASE is one of:
  run          teaching model, two scenarios (`run`): summary, probability table and chart,
               fan charts, graph, assumptions, provenance
  compare      teaching model, paired comparison: the comparison's table and chart
  sweep        teaching model, a sweep of the funding lever: P against the level
  search       teaching model, the funding for an 80 % chance
  sensitivity  teaching model, Sobol indices and thirds: tornado and total-index charts
  guandu       the Guandu plan (5 scenarios, 14 bilingual targets, actuals); its screenshot
               is BUILD_DIR/report.png
  checker      the checker itself: a page with an injected error, a blocked network request
               and a blank chart must fail it (so the cases above can fail)
  errors       bad input: exit 2, one line 'attain: error: ...', no output file, an existing
               output left as it was

Each browser case writes a results file, makes the report, checks the HTML (a
Content-Security-Policy that forbids any request, no http(s) src or href, the labels in
UTF-8), then loads a copy of the page with an injected checker script in chromium
(--dump-dom): the checker records window errors, console.error/warn calls and CSP
violations, and on load inspects every <canvas> (non-blank pixels and the chart's data
points) and every <svg> (shapes). The test fails on any error or empty chart, and on any
console message in chromium's log. A screenshot goes to BUILD_DIR/report-CASE.png.
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from checks import check, finish  # tests/cli/checks.py

attain, root, build = (os.path.abspath(a) for a in sys.argv[1:4])
case = sys.argv[4]
models, scenarios = os.path.join(root, "models"), os.path.join(root, "scenarios")
teaching = os.path.join(models, "teaching_firms.yaml")
teaching_scenarios = [os.path.join(scenarios, "teaching", s + ".yaml")
                      for s in ("as_written", "more_funding")]



def attain_run(args, cwd=None):
    return subprocess.run([attain, *args], cwd=cwd, capture_output=True, text=True)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    print("FAIL: chromium is not installed; run tools/deps.sh (as root) to install it "
          "(Debian package 'chromium')")
    sys.exit(1)


CHECKER = r"""<script>
(function () {
  'use strict';
  const out = { errors: [], warnings: [], csp: [], canvases: [], svgs: [] };
  window.__attainCheck = out;
  window.addEventListener('error', (e) => out.errors.push('error: ' + e.message + ' at ' + e.filename + ':' + e.lineno));
  window.addEventListener('unhandledrejection', (e) => out.errors.push('unhandled rejection: ' + e.reason));
  document.addEventListener('securitypolicyviolation', (e) => out.csp.push(e.violatedDirective + ' ' + e.blockedURI));
  const error = console.error.bind(console), warn = console.warn.bind(console);
  console.error = (...a) => { out.errors.push('console.error: ' + a.map(String).join(' ')); error(...a); };
  console.warn = (...a) => { out.warnings.push('console.warn: ' + a.map(String).join(' ')); warn(...a); };
  function inspect() {
    for (const c of document.querySelectorAll('canvas')) {
      let inked = 0;
      try {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) inked++;
      } catch (e) { out.errors.push('getImageData: ' + e); }
      const chart = window.Chart && Chart.getChart(c);
      let points = 0, drawn = 0;
      if (chart) {
        chart.data.datasets.forEach((d, i) => {
          points += d.data.filter((v) => v !== null && v !== undefined).length;
          drawn += chart.getDatasetMeta(i).data.length;
        });
      }
      out.canvases.push({ label: c.getAttribute('aria-label'), width: c.width, height: c.height,
        inked: inked, chart: !!chart, points: points, elements: drawn });
    }
    for (const s of document.querySelectorAll('svg')) {
      out.svgs.push({ label: s.getAttribute('aria-label'),
        shapes: s.querySelectorAll('path, polygon, polyline, ellipse, rect, circle, line').length,
        texts: s.querySelectorAll('text').length });
    }
    out.sections = Array.from(document.querySelectorAll('main section')).map((s) => s.id);
    out.height = document.documentElement.scrollHeight;
    out.text = document.getElementById('report').innerText;
    const pre = document.createElement('pre');
    pre.id = 'attain-check';
    pre.textContent = JSON.stringify(out);
    document.body.append(pre);
  }
  window.addEventListener('load', () => setTimeout(inspect, 300));
}());
</script>"""


def chromium_args(chromium, profile):
    return [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--disable-extensions", "--disable-sync", "--hide-scrollbars",
            "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"]


def load(page, tmp):
    """Loads `page` with the checker in chromium; returns (checker's JSON, chromium's log)."""
    chromium = find_chromium()
    text = open(page, encoding="utf-8").read()
    # Right after the CSP meta, so that the checker sees everything and the CSP governs it.
    at = text.index(">", text.index('http-equiv="Content-Security-Policy"')) + 1
    checked = os.path.join(tmp, "checked.html")
    with open(checked, "w", encoding="utf-8") as f:
        f.write(text[:at] + CHECKER + text[at:])
    r = subprocess.run(chromium_args(chromium, os.path.join(tmp, "profile")) +
                       ["--dump-dom", "--virtual-time-budget=10000", "file://" + checked],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="attain-check">(.*?)</pre>', r.stdout, re.S)
    if not check(m is not None, f"chromium printed no checker result (exit {r.returncode}); "
                 f"stderr: {r.stderr[-2000:]}"):
        return None, r.stderr
    return json.loads(html.unescape(m.group(1))), r.stderr


def console_lines(log):
    """Console messages in chromium's log (the report itself logs nothing)."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


def screenshot(page, path, height, tmp):
    chromium = find_chromium()
    height = max(800, min(int(height or 4000) + 40, 16000))
    r = subprocess.run(chromium_args(chromium, os.path.join(tmp, "profile-shot")) +
                       ["--screenshot=" + path, f"--window-size=1280,{height}",
                        "--virtual-time-budget=10000", "file://" + page],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and os.path.exists(path) and os.path.getsize(path) > 20000,
          f"screenshot {path}: exit {r.returncode}, stderr {r.stderr[-1000:]}")


def check_html(text, labels):
    check(re.search(r'<meta http-equiv="Content-Security-Policy" content="default-src \'none\';'
                    r"[^\"]*script-src 'unsafe-inline'", text) is not None,
          "the page has a Content-Security-Policy meta with default-src 'none'")
    check(text.index("Content-Security-Policy") < text.index("<script"),
          "the CSP comes before the first script")
    outside = re.findall(r'\b(?:src|href|action|srcset|poster|data)\s*=\s*["\']?\s*(?:https?:)?//',
                         text, re.I)
    check(not outside, f"no http(s) or protocol-relative src/href: {outside[:5]}")
    check(not re.search(r"<link\b|<iframe\b|<object\b|<embed\b|@import|url\(\s*['\"]?(?:https?:)?//",
                        text, re.I), "no <link>, <iframe>, @import or url() to another place")
    check(text.count("<script") == 3 and "</script>" in text,
          "three inline scripts: the data, Chart.js, the page's own")
    m = re.search(r'<script type="application/json" id="attain-data">(.*?)</script>', text, re.S)
    if check(m is not None, "the page's data is one inline JSON blob"):
        check("<" not in m.group(1), "the JSON blob holds no '<' (so no '</script>' can end it)")
        data = json.dumps(json.loads(m.group(1)), ensure_ascii=False)
        for label in labels:
            check(label in data, f"label '{label}' in the page's data")
    check(re.search(r"[\u4e00-\u9fff]", text) is not None, "Chinese text in the page as UTF-8")


def check_page(result, log, expect_sections, min_canvases, labels):
    check(result["errors"] == [], f"no errors in the page: {result['errors'][:5]}")
    check(result["warnings"] == [], f"no warnings in the page: {result['warnings'][:5]}")
    check(result["csp"] == [], f"no request blocked by the CSP: {result['csp'][:5]}")
    check(console_lines(log) == [], f"no console messages in chromium's log: {console_lines(log)[:5]}")
    for s in expect_sections:
        check(s in result["sections"], f"section '{s}' drawn (sections: {result['sections']})")
    check(len(result["canvases"]) >= min_canvases,
          f"at least {min_canvases} charts (got {len(result['canvases'])})")
    for c in result["canvases"]:
        check(c["chart"] and c["width"] > 0 and c["height"] > 0,
              f"canvas '{c['label']}' is a Chart.js chart with a size: {c}")
        check(c["inked"] > 500, f"canvas '{c['label']}' drew something: {c['inked']} pixels")
        check(c["points"] > 0 and c["elements"] > 0, f"chart '{c['label']}' has data points: {c}")
    graphs = [s for s in result["svgs"] if (s["label"] or "").startswith("dependency graph")]
    check(len(graphs) == 1, f"one dependency graph: {result['svgs']}")
    for g in graphs:
        check(g["shapes"] >= 10 and g["texts"] >= 5, f"the graph has shapes and text: {g}")
    for label in labels:
        check(label in result["text"], f"label '{label}' shown in the page")
    check("NaN" not in result["text"] and "undefined" not in result["text"],
          "no NaN or undefined in the page's text")


def browser_case(tmp, make, expect_sections, min_canvases, labels, shot):
    h5 = os.path.join(tmp, "results.h5")
    r = attain_run([*make, "--out", h5, "--quiet"])
    if not check(r.returncode == 0, f"{make[:2]}: exit {r.returncode}: {r.stderr.strip()}"):
        return
    page = os.path.join(tmp, "report.html")
    r = attain_run(["report", h5, "--out", page])
    if not check(r.returncode == 0 and r.stderr == "",
                 f"attain report: exit {r.returncode}, stderr: {r.stderr.strip()}"):
        return
    check([f for f in os.listdir(tmp) if ".tmp-" in f] == [], "no temporary file left")
    text = open(page, encoding="utf-8").read()
    check_html(text, labels)
    result, log = load(page, tmp)
    if result is None:
        return
    check_page(result, log, expect_sections, min_canvases, labels)
    screenshot(page, shot, result.get("height"), tmp)
    print(f"screenshot: {shot}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        shot = os.path.join(build, f"report-{case}.png")
        common = ["--runs", "4000", "--seed", "3"]
        teaching_labels = ["高新技术企业达到70个", "财政科技投入"]
        if case == "run":
            browser_case(tmp, ["run", teaching, *sum((["--scenario", s] for s in teaching_scenarios), []),
                               *common], ["summary", "model", "probabilities", "paths", "assumptions",
                                          "provenance"], 3, teaching_labels, shot)
        elif case == "compare":
            browser_case(tmp, ["compare", teaching, *sum((["--scenario", s] for s in teaching_scenarios), []),
                               *common], ["summary", "probabilities", "comparisons"], 4,
                         teaching_labels, shot)
        elif case == "sweep":
            browser_case(tmp, ["sweep", teaching, "--lever", "funding=0.5:2:7", *common],
                         ["sweep", "assumptions"], 1, teaching_labels, shot)
        elif case == "search":
            browser_case(tmp, ["search", teaching, "--lever", "funding", "--target", "firms_70",
                               "--probability", "0.8", *common], ["search"], 1, teaching_labels, shot)
        elif case == "sensitivity":
            browser_case(tmp, ["sensitivity", teaching, "--scenario", teaching_scenarios[0],
                               "--rows", "1024", "--resamples", "50", "--seed", "3"],
                         ["sensitivity", "assumptions"], 2, teaching_labels, shot)
        elif case == "guandu":
            guandu = [os.path.join(scenarios, "guandu", s + ".yaml")
                      for s in ("baseline", "plan", "austerity", "boost", "talent_first")]
            browser_case(tmp, ["run", os.path.join(models, "guandu_innovation.yaml"),
                               *sum((["--scenario", s] for s in guandu), []), "--runs", "4000",
                               "--store", "summary"],
                         ["summary", "model", "probabilities", "paths", "actuals", "assumptions",
                          "provenance"], 1 + 14 * 5,
                         ["全社会R&D投入强度达到2.5%", "高新技术企业"], os.path.join(build, "report.png"))
        elif case == "checker":
            checker_case(tmp)
        elif case == "errors":
            errors_case(tmp)
        else:
            print("unknown case", case)
            sys.exit(2)
    finish()


def checker_case(tmp):
    """The checker must catch what it is there to catch."""
    h5 = os.path.join(tmp, "results.h5")
    r = attain_run(["run", teaching, "--runs", "2000", "--out", h5, "--quiet"])
    check(r.returncode == 0, f"run: {r.stderr}")
    page = os.path.join(tmp, "report.html")
    check(attain_run(["report", h5, "--out", page]).returncode == 0, "report")
    text = open(page, encoding="utf-8").read()
    bad = ('<script>throw new Error("injected failure");</script>'
           '<img src="http://127.0.0.1:9/x.png" alt="">'
           '<canvas aria-label="blank" width="50" height="50"></canvas>')
    broken = os.path.join(tmp, "broken.html")
    with open(broken, "w", encoding="utf-8") as f:
        f.write(text.replace("</body>", bad + "</body>"))
    result, log = load(broken, tmp)
    if result is None:
        return
    check(any("injected failure" in e for e in result["errors"]),
          f"the checker records an uncaught error: {result['errors']}")
    check(any("127.0.0.1" in c for c in result["csp"]),
          f"the CSP blocks a request to the network and the checker sees it: {result['csp']}")
    check(any("injected failure" in line for line in console_lines(log)),
          "chromium's log shows the error as a console message")
    blank = [c for c in result["canvases"] if c["label"] == "blank"]
    check(len(blank) == 1 and blank[0]["inked"] == 0 and not blank[0]["chart"],
          f"a blank canvas is seen as blank: {blank}")


def errors_case(tmp):
    def refused(args, what, out):
        r = attain_run(args)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2, f"{what}: exit {r.returncode} (want 2)")
        check(len(lines) == 1 and lines[0].startswith("attain: error:"),
              f"{what}: one line 'attain: error: ...' (got {r.stderr!r})")
        if out:
            check(not os.path.exists(out) or open(out).read() == "old",
                  f"{what}: no new output file")
            check([f for f in os.listdir(os.path.dirname(out)) if ".tmp-" in f] == [],
                  f"{what}: no temporary file left")
        return r

    out = os.path.join(tmp, "r.html")
    refused(["report", os.path.join(tmp, "missing.h5"), "--out", out], "missing results file", out)
    text = os.path.join(tmp, "not.h5")
    with open(text, "w") as f:
        f.write("not an HDF5 file\n")
    refused(["report", text, "--out", out], "not an HDF5 file", out)
    refused(["report", teaching, "--out", out], "a YAML file", out)
    h5 = os.path.join(tmp, "ok.h5")
    check(attain_run(["run", teaching, "--runs", "500", "--out", h5, "--quiet"]).returncode == 0,
          "run")
    refused(["report", h5], "no --out", None)
    refused(["report", h5, "--out", tmp], "--out a directory", None)
    refused(["report", h5, "--out", h5], "--out the results file", None)
    refused(["report", h5, "--out", os.path.join(tmp, "no", "such", "dir", "r.html")],
            "--out in a folder that does not exist", None)
    with open(out, "w") as f:
        f.write("old")
    refused(["report", text, "--out", out], "an existing output kept on failure", out)
    check(open(out).read() == "old", "the existing output is unchanged")
    r = attain_run(["report", h5, "--out", out])
    check(r.returncode == 0 and open(out, encoding="utf-8").read().startswith("<!DOCTYPE html>"),
          f"a good report replaces it: {r.stderr}")


main()
