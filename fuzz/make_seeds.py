#!/usr/bin/env python3
"""Builds the fuzzing seed corpus from the repository (no network).

usage: make_seeds.py SOURCE_DIR OUT_DIR

Writes OUT_DIR/model, OUT_DIR/scenario, OUT_DIR/expr, OUT_DIR/results and OUT_DIR/state,
one file per seed, named by the
SHA-1 of its content (as libFuzzer names corpus files), from: models/*.yaml,
scenarios/**/*.yaml, tests/data/*.yaml, the YAML code blocks of docs/**/*.md and
README.md (model or scenario by their first key), the expressions written in all of
these (formula, change, initial, distribution parameters, growth rates, inline code in
the docs that parses like an expression), and the regression inputs tests/corpus/<target>; model and scenario seeds also with CRLF and
CR-only line ends. The results and state seeds are a few bytes that select the genuine
files and states fuzz_results and fuzz_state make themselves.
"""
import hashlib
import pathlib
import re
import struct
import sys

# Keys whose values are expressions (or numbers, which are expressions too).
EXPR_KEYS = ("formula", "change", "initial", "rate", "mean", "sd", "min", "max", "mode",
             "low", "high", "shape", "scale", "alpha", "beta", "p", "lambda", "df", "value")
KEYS = "|".join(EXPR_KEYS)
# Block style: the rest of the line; flow style ({k: v, ...}): up to the next comma.
BLOCK_RE = re.compile(r"^\s*(?:%s):[ \t]*(\"[^\"\n]*\"|'[^'\n]*'|[^#\n]+)" % KEYS, re.M)
FLOW_RE = re.compile(r"[{,][ \t]*(?:%s):[ \t]*(\"[^\"\n]*\"|'[^'\n]*'|[^,{}\n#]+)" % KEYS)
# Inline code in the docs that looks like an expression: operators or calls, no YAML.
INLINE_RE = re.compile(r"`([^`\n]{1,200})`")
LOOKS_LIKE_EXPR = re.compile(r"^[\w\s.+\-*/^()<>=!,&|]+$")
LOOKS_LIKE_PATH = re.compile(r"^(--|[\w.-]*/[\w./-]*$)")


def yaml_blocks(markdown):
    return re.findall(r"^```yaml[^\n]*\n(.*?)^```", markdown, flags=re.S | re.M)


def expressions(yaml_text):
    for m in list(BLOCK_RE.finditer(yaml_text)) + list(FLOW_RE.finditer(yaml_text)):
        v = m.group(1).strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
            v = v[1:-1]
        if v:
            yield v


def main():
    src = pathlib.Path(sys.argv[1])
    out = pathlib.Path(sys.argv[2])
    seeds = {"model": set(), "scenario": set(), "expr": set(), "results": set(), "state": set()}
    texts = []
    for p in sorted(src.glob("models/*.yaml")) + sorted(src.glob("tests/data/*.yaml")):
        t = p.read_text(encoding="utf-8")
        texts.append(t)
        seeds["scenario" if re.match(r"\s*scenario:", t) else "model"].add(t)
    for p in sorted(src.glob("scenarios/**/*.yaml")):
        t = p.read_text(encoding="utf-8")
        texts.append(t)
        seeds["scenario"].add(t)
    for p in sorted(src.glob("docs/**/*.md")) + [src / "README.md"]:
        md = p.read_text(encoding="utf-8")
        for block in yaml_blocks(md):
            texts.append(block)
            first = re.search(r"^(\w+):", block, flags=re.M)
            seeds["scenario" if first and first.group(1) == "scenario" else "model"].add(block)
        for code in INLINE_RE.findall(md):
            if LOOKS_LIKE_EXPR.match(code) and not LOOKS_LIKE_PATH.match(code) and re.search(r"[+\-*/^<>=(]", code):
                seeds["expr"].add(code)
    for t in texts:
        seeds["expr"].update(expressions(t))
    # fuzz_results: the first byte picks a genuine file (fuzz_results.cpp writes them at its
    # start), the rest edits it; with no edits, each genuine file is read as it is.
    seeds["results"].update(chr(i) for i in range(8))
    # fuzz_state: short inputs, which (FuzzedDataProvider takes numbers from the end) pick
    # each reducer's genuine state as it is, or a rows spool.
    seeds["state"].update(chr(0) + chr(s) + chr(r) + chr(1) + chr(0) for s in range(2) for r in range(8))
    # Rows spools (a record: first_run, count, three lengths, the doubles), then the bytes
    # fuzz_state reads from the end: the length declared (0: the file's), the model, mode 3.
    for count, lengths in ((2, (4, 10, 0)), (1, (2, 5, 0)), (64, (0, 0, 0)), (3, (3, 0, 99))):
        record = struct.pack("<5Q", 0, count, *lengths) + struct.pack("<d", 0.5) * sum(lengths)
        for model in (0, 1):
            seeds["state"].add((record * 2 + bytes([0, model, 3])).decode("utf-8", errors="surrogateescape"))
    for target in seeds:
        for p in sorted((src / "tests" / "corpus" / target).glob("*")):
            if p.is_file():
                seeds[target].add(p.read_bytes().decode("utf-8", errors="surrogateescape"))
    # Line ends other than LF (CRLF from Windows, CR alone from old Macs) for every model
    # and scenario seed: readers have mistaken a CR-only file for one comment line.
    for target in ("model", "scenario"):
        for t in list(seeds[target]):
            if "\r" not in t:
                seeds[target].add(t.replace("\n", "\r\n"))
                seeds[target].add(t.replace("\n", "\r"))
    for target, items in seeds.items():
        d = out / target
        d.mkdir(parents=True, exist_ok=True)
        for s in items:
            data = s.encode("utf-8", errors="surrogateescape")
            (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
        print(f"attain: {len(items)} {target} seeds in {d}")


if __name__ == "__main__":
    main()
