#!/usr/bin/python3
"""compare.py - compare two chanlab runs (for regressions).

    /usr/bin/python3 scripts/compare.py results/A results/B [--filter REGEX]

Checks both runs (folders, or chanbench JSON files) and hands them to Google
Benchmark's own tools/compare.py (Debian package libbenchmark-tools), which
prints the relative change of every benchmark present in both and, when the
runs have repetitions (scripts/run.sh --full makes 3), a Mann-Whitney U test
per benchmark: a change is only significant when its p-value is below
--alpha. The Go results (go.json) are compared too when both runs have them.
Exits non-zero with a message on a missing or malformed input.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chanlab_results import ResultsError, load_json, rows_from  # noqa: E402

GB_COMPARE = "/usr/share/benchmark/compare.py"


def inputs(path):
    """[(label, json path)] for a run folder or a single JSON file."""
    if os.path.isdir(path):
        main = os.path.join(path, "chanbench.json")
        out = [("chanbench", main)]
        go = os.path.join(path, "go.json")
        if os.path.exists(go):
            out.append(("go", go))
        return out
    return [("chanbench", path)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("baseline")
    ap.add_argument("contender")
    ap.add_argument("--filter", help="only benchmarks whose name matches this regex")
    ap.add_argument("--alpha", type=float, default=0.05,
                    help="significance level of the U test (default 0.05)")
    args = ap.parse_args()
    if not os.path.exists(GB_COMPARE):
        print(f"compare.py: {GB_COMPARE} is missing; install the Debian package "
              "libbenchmark-tools", file=sys.stderr)
        return 1
    if not 0 < args.alpha < 1:
        print("compare.py: --alpha must be between 0 and 1", file=sys.stderr)
        return 2
    try:
        pattern = re.compile(args.filter) if args.filter else None
    except re.error as e:
        print(f"compare.py: bad --filter regex: {e}", file=sys.stderr)
        return 2
    try:
        a, b = dict(inputs(args.baseline)), dict(inputs(args.contender))
        for path in list(a.values()) + list(b.values()):
            rows_from(load_json(path), path)
    except ResultsError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 1
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("chanbench", "go"):
            if label not in a or label not in b:
                continue
            print(f"== {label}: {a[label]} -> {b[label]}")
            files = []
            for side, path in (("a", a[label]), ("b", b[label])):
                if pattern:
                    doc = load_json(path)
                    doc["benchmarks"] = [x for x in doc["benchmarks"]
                                         if pattern.search(x.get("name", ""))]
                    path = os.path.join(tmp, f"{label}-{side}.json")
                    with open(path, "w") as f:
                        json.dump(doc, f)
                files.append(path)
            cmd = [sys.executable, GB_COMPARE, "--alpha", str(args.alpha),
                   "benchmarks"] + files
            sys.stdout.flush()
            status |= subprocess.call(cmd)
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
