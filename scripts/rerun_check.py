#!/usr/bin/python3
"""rerun_check.py - does a rerun of one commit tell the same story (its targets)?

    /usr/bin/python3 scripts/rerun_check.py results/A results/B [--alpha A]

Run the quick suite twice on one commit on one machine (scripts/run.sh,
twice), then give this the two folders. It counts:
  - samples: every row has at least 5 repetitions and every figure an
    interval (a 95% interval of the median needs 6);
  - flips: of the pairs of implementations one run declares different
    (not ~) within a configuration, the share the other run declares the
    other way round (target: at most 1%, each way);
  - false alarms: the share of rows compare.py flags as a significant change
    between the two runs, with its defaults (target: at most 5%);
  - durations: each run's suite time from env.txt (target: the quick suite
    in about 5 minutes on 2 PUs).
It prints a table and exits 0 if every target is met, 1 if not, 2 on bad
input (missing, malformed or mismatched folders: different commits, suites
or machines are reported, and refused unless --allow-mismatch).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chanlab_stats as stats  # noqa: E402

stats.check_deps("rerun_check.py")

from chanlab_results import ResultsError, Run, speedup, verdict  # noqa: E402
from compare import changed, compare_runs, env_warnings  # noqa: E402

MIN_REPS = 5
MAX_FLIPS = 0.01
MAX_FALSE_ALARMS = 0.05
QUICK_BUDGET_S = 5.5 * 60  # "about 5 minutes"


def pair_verdicts(run, alpha):
    """{(group key, series a, series b): 'a' | 'b' | '~'} for every pair of
    series in every configuration (series a < series b by name)."""
    out = {}
    for key, rows in run.groups().items():
        rows = sorted((r for r in rows if r.good), key=lambda r: r.series)
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                out[(key, a.series, b.series)] = verdict(speedup(a, b, alpha))
    return out


def flips(va, vb):
    """(pairs different in a, of those declared the other way round in b)."""
    different = [k for k, v in va.items() if v != "~" and k in vb]
    flipped = [k for k in different if vb[k] not in ("~", va[k])]
    return different, flipped


def duration(run):
    """The suite's time (the benchmark programs, not the build or plots)."""
    def num(v):
        return float(v) if v and v.replace(".", "", 1).isdigit() else None
    if num(run.env.get("suite_seconds")) is not None:
        return num(run.env["suite_seconds"])
    secs = [num(v) for k, v in run.env.items() if k.endswith("_seconds")
            and k not in ("total_seconds", "suite_seconds") and num(v) is not None]
    return sum(secs) if secs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="the first run's results folder")
    ap.add_argument("b", help="the second run's results folder")
    stats.add_alpha(ap)
    ap.add_argument("--allow-mismatch", action="store_true",
                    help="compare runs of different commits, suites or machines anyway")
    args = ap.parse_args()
    try:
        for f in (args.a, args.b):
            if not os.path.isdir(f):
                raise ResultsError(f"{f}: not a results folder" if os.path.exists(f)
                                   else f"{f}: no such file or directory")
        a, b = Run(args.a), Run(args.b)
    except ResultsError as e:
        print(f"rerun_check.py: {e}", file=sys.stderr)
        return 2
    mismatch = [w for w in env_warnings(a, b) if not w.startswith("load")]
    if mismatch:
        for w in mismatch:
            print(f"rerun_check.py: the runs differ: {w}", file=sys.stderr)
        if not args.allow_mismatch:
            print("rerun_check.py: the targets are about two runs of one commit on one machine "
                  "(--allow-mismatch to compare anyway)", file=sys.stderr)
            return 2

    results = []  # (target, measured, ok)
    for label, run in (("A", a), ("B", b)):
        rows = [r for r in run.rows if not r.error]
        few = [r for r in rows if len(r.good) < MIN_REPS]
        no_ci = [r for r in rows if r.stat()[1] != r.stat()[1]]  # nan
        results.append((f"run {label}: every row has at least {MIN_REPS} samples",
                        f"{len(rows) - len(few)} of {len(rows)} rows"
                        + (f" (e.g. {few[0].name}: {len(few[0].good)})" if few else ""), not few))
        results.append((f"run {label}: every figure has an interval",
                        f"{len(rows) - len(no_ci)} of {len(rows)} rows"
                        + (f" (e.g. {no_ci[0].name})" if no_ci else ""), not no_ci))
    va, vb = pair_verdicts(a, args.alpha), pair_verdicts(b, args.alpha)
    for label, x, y in (("A", va, vb), ("B", vb, va)):
        different, flipped = flips(x, y)
        share = len(flipped) / len(different) if different else 0.0
        example = ""
        if flipped:
            (key, s1, s2) = flipped[0]
            example = f" (e.g. {key[0]} {key[1]} {dict(key[2])}: {s1} vs {s2})"
        results.append((f"pairs run {label} declares different, declared the other way round "
                        f"by the other run: at most {MAX_FLIPS:.0%}",
                        f"{len(flipped)} of {len(different)} = {share:.1%}{example}",
                        share <= MAX_FLIPS))
    both, only_a, only_b = compare_runs(a, b, None, args.alpha)
    flagged = [n for n, _, _, c in both if changed(c)]
    share = len(flagged) / len(both) if both else 1.0
    results.append((f"rows compare.py flags as significant changes: at most {MAX_FALSE_ALARMS:.0%}",
                    f"{len(flagged)} of {len(both)} = {share:.1%}"
                    + (f"; {len(only_a) + len(only_b)} rows in one run only"
                       if only_a or only_b else ""), share <= MAX_FALSE_ALARMS and bool(both)))
    for label, run in (("A", a), ("B", b)):
        d = duration(run)
        suite = run.env.get("suite", run.context.get("chanlab.suite", "?"))
        ok = d is not None and (suite != "quick" or d <= QUICK_BUDGET_S)
        results.append((f"run {label}: {suite} suite in about 5 minutes (quick, 2 PUs)",
                        "unknown (no *_seconds in env.txt)" if d is None else
                        f"{d / 60:.1f} min ("
                        + ", ".join(f"{k[:-8]} {float(v):.0f} s" for k, v in run.env.items()
                                    if k.endswith("_seconds")) + ")", ok))
    width = max(len(t) for t, _, _ in results)
    print(f"{'target':<{width}}  {'ok':<4}  measured")
    for t, m, ok in results:
        print(f"{t:<{width}}  {'yes' if ok else 'NO':<4}  {m}")
    loads = [f"{x}: load {r.env.get('load_before', '?')} -> {r.env.get('load_after', '?')}"
             for x, r in (("A", a), ("B", b))]
    print("(" + "; ".join(loads) + ": the targets assume a quiet machine)")
    return 0 if all(ok for _, _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
