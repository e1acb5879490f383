#!/usr/bin/python3
"""compare.py - compare two chanlab runs, in benchstat's spirit.

    /usr/bin/python3 scripts/compare.py OLD NEW [options]

OLD and NEW are results folders (every *.json results file in them:
chanbench.json, go.json, the peers') or single results JSON files. For every
benchmark in both, prints each side's figure (the median of its repetitions
with a 95% interval; latency rows use the median round trip from the
histogram, like the report), the change NEW/OLD with its interval, and the
p-value of a Mann-Whitney U test; the change shows as "~" unless p < alpha
and its whole interval lies beyond a noise margin (--min-change, 5%: two
quick runs of one commit on the quiet reference VM had 12 of 140 rows
significant at p < 0.05, all but 2 with intervals reaching inside +-5%:
real differences between runs, but not the code's doing).
Warns about rows missing on one side, about repetitions too few for any test
to reach alpha, and about a changed machine, kernel, topology, compiler,
library or commit between the two runs.

  --filter REGEX        only benchmarks whose name matches
  --alpha A             significance level (default 0.05)
  --min-change PCT      smallest change reported, in per cent (default 5)
  --fail-on-regression  exit 1 if any row got significantly worse
  --changed             list only the rows with a significant change
  --color WHEN          auto (default: only on a terminal), always, never
  -h, --help            this help

Exit status: 0, 1 (regressions, with --fail-on-regression), 2 (bad input).
"""
import argparse
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chanlab_stats as stats  # noqa: E402

stats.check_deps("compare.py")

from chanlab_results import ResultsError, Run, speedup  # noqa: E402

# env.txt keys whose change makes a comparison suspect.
ENV_KEYS = ["host", "cpu_model", "pus", "kernel", "compiler", "c_flags", "allocator",
            "google_benchmark", "go", "rust", "git_commit", "suite"]


def topology_digest(run):
    path = os.path.join(run.folder, "topology.xml")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        # The XML carries no timestamps; its digest changes with the topology.
        return hashlib.sha256(f.read()).hexdigest()[:12]


def env_warnings(a, b):
    out = []
    for key in ENV_KEYS:
        va, vb = a.env.get(key), b.env.get(key)
        if va is not None and vb is not None and va != vb:
            out.append(f"{key} changed: '{va}' -> '{vb}'")
    ta, tb = topology_digest(a), topology_digest(b)
    if ta and tb and ta != tb:
        out.append("the machine's topology (topology.xml) changed")
    # The peers' libraries and versions (queue.<row>, the Rust program's
    # library.<crate>) and fiber schedulers count as library changes too.
    keys = ["library_build_type", "chanlab.allocator", "chanlab.pus"]
    keys += sorted(k for k in a.context if k.startswith(("queue.", "library.", "fibers.")))
    for key in keys:
        va, vb = a.context.get(key), b.context.get(key)
        if va is not None and vb is not None and va != vb:
            out.append(f"{key} changed: '{va}' -> '{vb}'")
    return out


MIN_CHANGE = 5.0


def changed(c, min_change=MIN_CHANGE):
    """A significant change whose interval lies wholly beyond +-min_change%."""
    m = min_change / 100
    return c["different"] and (c["lo"] >= 1 + m or c["hi"] <= 1 - m)


def compare_runs(a, b, pattern=None, alpha=stats.ALPHA):
    """[(name, row_a, row_b, c)] for the rows in both (c: speedup of b over
    a, >1 = better), the names only in a, the names only in b."""
    ra = {r.name: r for r in a.rows if not r.error and (not pattern or pattern.search(r.name))}
    rb = {r.name: r for r in b.rows if not r.error and (not pattern or pattern.search(r.name))}
    both = [(n, ra[n], rb[n], speedup(rb[n], ra[n], alpha)) for n in sorted(ra.keys() & rb.keys())]
    return both, sorted(ra.keys() - rb.keys()), sorted(rb.keys() - ra.keys())


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="A run's rows have 6 repetitions in the quick suite and 10 in --full; "
               "fewer than 4 per side cannot reach p < 0.05.")
    ap.add_argument("old", help="results folder or JSON file (the baseline)")
    ap.add_argument("new", help="results folder or JSON file (the contender)")
    ap.add_argument("--filter", help="only benchmarks whose name matches this regex")
    stats.add_alpha(ap)

    def pct(text):
        try:
            v = float(text)
        except ValueError:
            v = -1
        if not 0 <= v < 100:
            raise argparse.ArgumentTypeError(f"must be a percentage from 0 to 100, not '{text}'")
        return v
    ap.add_argument("--min-change", type=pct, default=MIN_CHANGE,
                    help="smallest change reported, in per cent (default %(default)s)")
    ap.add_argument("--fail-on-regression", action="store_true",
                    help="exit 1 if any row got significantly worse")
    ap.add_argument("--changed", action="store_true",
                    help="list only the rows with a significant change")
    ap.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    args = ap.parse_args()
    try:
        pattern = re.compile(args.filter) if args.filter is not None else None
    except re.error as e:
        print(f"compare.py: bad --filter regex: {e}", file=sys.stderr)
        return 2
    if args.filter == "":
        print("compare.py: empty --filter", file=sys.stderr)
        return 2
    try:
        a, b = Run(args.old), Run(args.new)
    except ResultsError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())

    def paint(text, code):
        return f"\033[{code}m{text}\033[0m" if color else text

    both, only_a, only_b = compare_runs(a, b, pattern, args.alpha)
    if not both:
        print(f"compare.py: no benchmark is in both runs"
              f"{' (after --filter)' if pattern else ''}", file=sys.stderr)
        return 2
    print(f"Comparing {args.old} (old) with {args.new} (new): {len(both)} rows in both, "
          f"alpha {args.alpha}")
    for w in env_warnings(a, b):
        print(paint(f"warning: {w}", "33"))
    untestable = [n for n, _, _, c in both if not c["testable"]]
    if untestable:
        print(paint(f"warning: {len(untestable)} rows have too few repetitions on one side for "
                    f"any test to reach p < {args.alpha} (e.g. {untestable[0]}): they show as ~",
                    "33"))
    for label, names in (("old", only_a), ("new", only_b)):
        if names:
            print(paint(f"warning: {len(names)} rows only in the {label} run "
                        f"(e.g. {names[0]})", "33"))
    worse = better = within = 0
    width = max(len(n) for n, _, _, _ in both)
    print()
    print(f"{'benchmark':<{width}}  {'old':>30}  {'new':>30}  {'new vs old':>26}  {'p':>6}")
    for name, ra, rb, c in both:
        sig = changed(c, args.min_change)
        if sig:
            if c["ratio"] > 1:
                better += 1
            else:
                worse += 1
        elif c["different"]:
            within += 1
        if not sig and args.changed:
            continue
        if sig:
            pct = (c["ratio"] - 1) * 100
            ci = f" [{(c['lo'] - 1) * 100:+.0f}, {(c['hi'] - 1) * 100:+.0f}]"
            change = f"{pct:+.1f}%{ci}"
            change = paint(f"{change:>26}", "32" if c["ratio"] > 1 else "31")
        else:
            change = f"{'~':>26}"
        print(f"{name:<{width}}  {ra.fmt():>30}  {rb.fmt():>30}  {change}  {c['p']:6.3f}")
    print()
    print(f"{len(both)} rows: {better} significantly better, {worse} significantly worse, "
          f"{len(both) - better - worse} ~ (no change beyond ±{args.min_change:g}% at alpha "
          f"{args.alpha}; {within} of them significant but within it). "
          "Changes are in speed: + is better (higher rate, lower time or latency).")
    if args.fail_on_regression and worse:
        print(f"compare.py: {worse} significant regression(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
