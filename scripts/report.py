#!/usr/bin/python3
"""report.py - writes results/<run>/README.md, the report page of one run.

    /usr/bin/python3 scripts/report.py results/<run>

The page gives the environment, the placements the machine has (and the
ones it lacks, with why), the issue's targets checked against this run's own
floors and Go, the winner of every scenario configuration, the cost figures
(CPU, context switches, bytes allocated per operation, idle CPU) and embeds
the plots written by plot.py. Exits non-zero with a message on missing or
malformed input.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chanlab_results import Run, ResultsError  # noqa: E402

PLOTS = [
    ("ours_vs_go.png", "Best chanlab implementation vs Go, same run"),
    ("latency_by_placement.png", "Ping-pong by placement, floors dashed"),
    ("latency_percentiles.png", "Ping-pong percentiles"),
    ("spsc_by_capacity.png", "SPSC by capacity, with the raw ring"),
    ("throughput_mpsc.png", "MPSC vs threads"),
    ("throughput_spmc.png", "SPMC vs threads"),
    ("throughput_mpmc.png", "MPMC vs threads"),
    ("select.png", "Select over k channels"),
    ("cpu_per_message.png", "CPU and context switches per message"),
    ("payload.png", "Payload size sweep"),
    ("patterns.png", "Go concurrency patterns"),
    ("pair_heatmap.png", "Per-PU-pair cache-line latency"),
]


def fmt_rate(r):
    return f"{r.get('items_per_second', 0) / 1e6:.2f} M/s"


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


def lat(r):
    """A round trip's typical cost: the median when the histogram has one
    (on a shared machine a few preempted round trips inflate the mean)."""
    return r.get("p50_ns") or r["time_ns"]


def fmt_lat(r):
    return f"p50 {fmt_ns(lat(r))} (mean {fmt_ns(r['time_ns'])})"


def best(rows, latency):
    rows = [r for r in rows if r["impl"] not in ("go", "floor")]
    if not rows:
        return None
    if latency:
        return min(rows, key=lat)
    return max(rows, key=lambda r: r.get("items_per_second", 0))


def targets(run):
    """Rows of (target, measured, verdict) computed from this run only."""
    out = []
    cross = run.cross_place()

    def verdict(ok, miss):
        return "met" if ok else f"missed ({miss})"

    if cross:
        pp = best(run.select("pingpong", place=cross), True)
        fl = run.one("floor_cacheline", place=cross)
        if pp and fl:
            ratio = lat(pp) / lat(fl)
            out.append((f"Ping-pong across cores ({cross}) within 1.3x of the cache-line floor (medians)",
                        f"{pp['impl']} {fmt_lat(pp)} vs floor {fmt_lat(fl)} = {ratio:.2f}x",
                        verdict(ratio <= 1.3, f"{ratio / 1.3:.1f}x over the bound")))
    sp0 = best(run.select("spsc", cap=0), False)
    go0 = run.one("spsc", "go", cap=0)
    if sp0:
        rate = sp0["items_per_second"] / 1e6
        out.append(("Unbuffered SPSC at least 2x crossbeam (issue's figure: 1 M/s, so 2 M/s; "
                    "crossbeam is not run here)",
                    f"{sp0['impl']} {rate:.2f} M/s ({sp0['place']})"
                    + (f"; Go {go0['items_per_second'] / 1e6:.2f} M/s" if go0 else ""),
                    verdict(rate >= 2.0, f"{rate / 2.0:.2f}x of 2 M/s")))
    for cap in (128, 1024):
        rows = run.select("spsc", cap=cap)
        b = best(rows, False)
        go = run.one("spsc", "go", cap=cap)
        if b and go:
            ratio = b["items_per_second"] / go["items_per_second"]
            out.append((f"SPSC cap {cap}: at least 2x Go",
                        f"{b['impl']} {fmt_rate(b)} ({b['place']}) vs Go {fmt_rate(go)} = {ratio:.2f}x",
                        verdict(ratio >= 2, f"{ratio:.2f}x")))
        for place in run.places("floor_ring"):
            ring = run.one("floor_ring", place=place, cap=cap)
            ours = best(run.select("spsc", place=place, cap=cap), False)
            if ring and ours:
                ratio = ours["items_per_second"] / ring["items_per_second"]
                out.append((f"SPSC cap {cap} within 10% of a raw ring ({place})",
                            f"{ours['impl']} {fmt_rate(ours)} vs ring {fmt_rate(ring)} = {ratio:.2f}x",
                            verdict(ratio >= 0.9, f"{ratio:.2f}x of the ring")))
    for label, scen, params in (("MPMC 2x2 cap 128", "mpmc", dict(cap=128, p=2, c=2)),
                                ("MPSC 4x1 cap 128", "mpsc", dict(cap=128, p=4, c=1))):
        b = best(run.select(scen, **params), False)
        go = run.one(scen, "go", **params)
        if b and go:
            ratio = b["items_per_second"] / go["items_per_second"]
            out.append((f"{label}: at least Go's (and crossbeam's cited best)",
                        f"{b['impl']} {fmt_rate(b)} vs Go {fmt_rate(go)} = {ratio:.2f}x",
                        verdict(ratio >= 1, f"{ratio:.2f}x of Go")))
    for cap in (0, 128):
        b = best(run.select("select_recv", k=4, cap=cap), False)
        go = run.one("select_recv", "go", k=4, cap=cap)
        if b and go:
            ratio = b["items_per_second"] / go["items_per_second"]
            out.append((f"Select over 4 (cap {cap}): at least 1.5x Go",
                        f"{b['impl']} {fmt_rate(b)} vs Go {fmt_rate(go)} = {ratio:.2f}x",
                        verdict(ratio >= 1.5, f"{ratio:.2f}x")))
    pp = best(run.select("pingpong", place="same_pu"), True)
    fl = run.one("floor_futex", place="same_pu")
    if pp and fl:
        ratio = lat(pp) / lat(fl)
        out.append(("Pinned to one CPU: ping-pong within 1.5x of the one-core futex floor (medians)",
                    f"{pp['impl']} {fmt_lat(pp)} vs futex {fmt_lat(fl)} = {ratio:.2f}x",
                    verdict(ratio <= 1.5, f"{ratio:.2f}x")))
    per_impl = {}
    for r in run.rows:
        if r["scenario"] in ("pingpong", "spsc", "mpsc", "spmc", "mpmc", "select_recv",
                             "select_both", "select_many", "payload") \
                and not r["error"] and r["impl"] not in ("go", "floor"):
            # Channels are made outside the timed region but inside the
            # counted one once per round; subtract nothing, report as is.
            per_impl[r["impl"]] = max(per_impl.get(r["impl"], 0), r.get("alloc_bytes_per_op", 0))
    if per_impl:
        worst = max(per_impl.values())
        out.append(("0 bytes allocated per send, receive and select",
                    ", ".join(f"{k}: max {v:.3g} B/op" for k, v in sorted(per_impl.items())),
                    verdict(worst == 0, f"worst {worst:.3g} B/op")))
    return out


def summary(run):
    """Plain sentences: who wins the headline scenarios, by how much."""
    out = []
    cross = run.cross_place()
    go = lambda scen, **p: run.one(scen, "go", **p)  # noqa: E731
    if cross:
        pp = best(run.select("pingpong", place=cross), True)
        fl, fu = run.one("floor_cacheline", place=cross), run.one("floor_futex", place=cross)
        if pp:
            s = f"Ping-pong across PUs ({cross}), medians: **{pp['impl']}** {fmt_ns(lat(pp))}"
            if fl:
                s += f", {lat(pp) / lat(fl):.1f}x the cache-line floor ({fmt_ns(lat(fl))})"
            if fu:
                s += f" and {lat(pp) / lat(fu):.2f}x the futex floor ({fmt_ns(lat(fu))})"
            g = go("pingpong")
            if g:
                s += f"; Go {fmt_ns(lat(g))} (unpinned)"
            out.append(s + ".")
    for label, scen, params in (("Unbuffered SPSC", "spsc", dict(cap=0)),
                                ("SPSC cap 128", "spsc", dict(cap=128)),
                                ("SPSC cap 1024", "spsc", dict(cap=1024)),
                                ("MPSC 4x1 cap 128", "mpsc", dict(cap=128, p=4, c=1)),
                                ("MPMC 2x2 cap 128", "mpmc", dict(cap=128, p=2, c=2)),
                                ("Select over 4, cap 128", "select_recv", dict(k=4, cap=128))):
        b = best(run.select(scen, place="unpinned", **params), False)
        if not b:
            continue
        s = f"{label} (unpinned): **{b['impl']}** {fmt_rate(b)}"
        g = go(scen, **params)
        if g:
            s += f", {b['items_per_second'] / g['items_per_second']:.2f}x Go ({fmt_rate(g)})"
        out.append(s + ".")
    # Oversubscription: the best MPMC at the most threads vs its best count.
    rows = run.select("mpmc", place="unpinned", cap=128)
    if rows:
        most = max(r["params"]["p"] for r in rows)
        b = best([r for r in rows if r["params"]["p"] == most], False)
        if b:
            peak = max(r["items_per_second"] for r in rows if r["impl"] == b["impl"])
            out.append(f"Oversubscribed MPMC {most}x{most} cap 128: **{b['impl']}** {fmt_rate(b)}, "
                       f"{b['items_per_second'] / peak:.0%} of its own best thread count.")
    cpu = [r for r in run.select("spsc", place="unpinned", cap=128) if r["impl"] not in ("go", "floor")]
    if cpu:
        c = min(cpu, key=lambda r: r.get("cpu_ns_per_msg", 1e18))
        out.append(f"Cheapest SPSC cap 128 in CPU: **{c['impl']}** "
                   f"{c.get('cpu_ns_per_msg', 0):.0f} CPU-ns per message "
                   f"({c.get('vcsw_per_msg', 0):.3g} voluntary switches per message).")
    idle = [r for r in run.select("idle") if "idle_cpu_pct" in r]
    if idle:
        out.append("A parked receiver uses " + ", ".join(
            f"{r['impl']} {r['idle_cpu_pct']:.2f}%" for r in idle) + " of a CPU once its spin phase is over.")
    return out


def winners(run):
    """Per scenario configuration: the fastest implementation."""
    groups = {}
    for r in run.rows:
        if r["error"] or r["impl"] == "floor" or r["scenario"] in ("idle",):
            continue
        key = (r["scenario"], r["place"] if r["impl"] != "go" else "unpinned",
               tuple(sorted(r["params"].items())), r.get("threads", 1))
        groups.setdefault(key, []).append(r)
    lines = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3])):
        rows = groups[key]
        latency = key[0] in ("pingpong", "timed", "close_storm", "lifecycle")
        rows.sort(key=lat if latency else (lambda r: -r.get("items_per_second", 0)))
        scen, place, params, threads = key
        desc = " ".join(f"{k}={v}" for k, v in params)
        if threads > 1:
            desc += f" threads={threads}"
        fig = (lambda r: fmt_ns(lat(r))) if latency else fmt_rate
        ranking = ", ".join(f"{r['impl']} {fig(r)}" for r in rows)
        lines.append(f"| {scen} | {place} | {desc} | **{rows[0]['impl']}** | {ranking} |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder")
    args = ap.parse_args()
    try:
        run = Run(args.folder)
    except ResultsError as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1
    name = os.path.basename(os.path.normpath(args.folder))
    L = [f"# chanlab benchmark run `{name}`", ""]
    L.append("Written by `scripts/report.py` from `chanbench.json` (Google Benchmark JSON) "
             "and `go.json` (Go 1.19 channels, same schema). Numbers are from this run only; "
             "a shared or busy machine makes them noisy (see the load averages below).")
    L += ["", "## Environment", "", "| key | value |", "|---|---|"]
    for k, v in run.env.items():
        L.append(f"| {k} | {v.replace('|', '/')} |")
    if "chanlab.allocator" in run.context:
        L.append(f"| allocator (in binary) | {run.context['chanlab.allocator']} |")
    L += ["", "Topology: `topology.xml` (hwloc). Placement classes on this machine:", ""]
    for k, v in sorted(run.context.items()):
        if k.startswith("placement."):
            L.append(f"- `{k[10:]}`: {v}")
    errs = run.errors()
    if errs:
        L += ["", "## Benchmarks that reported an error", ""]
        L += [f"- `{r['name']}`: {r['error']}" for r in errs]
    L += ["", "## What this run shows", ""] + [f"- {x}" for x in summary(run)]
    L += ["", "## Targets (issue 4), checked against this run", "",
          "| target | measured | verdict |", "|---|---|---|"]
    L += [f"| {t} | {m} | {v} |" for t, m, v in targets(run)]
    L += ["", "## Cost", "", "| implementation | SPSC cap 128 CPU ns/msg | vcsw/msg | "
          "alloc B/op | allocs/op | idle waiter CPU % | make+destroy ns (cap 128) |",
          "|---|---|---|---|---|---|---|"]
    for impl in run.impls():
        s = run.one("spsc", impl, None if impl == "go" else "unpinned", cap=128)
        idle = run.one("idle", impl)
        life = run.one("lifecycle", impl, cap=128)
        cell = lambda r, k, f="{:.3g}": f.format(r[k]) if r and k in r else "-"  # noqa: E731
        L.append(f"| {impl} | {cell(s, 'cpu_ns_per_msg', '{:.0f}')} | {cell(s, 'vcsw_per_msg')} | "
                 f"{cell(s, 'alloc_bytes_per_op')} | {cell(s, 'allocs_per_op')} | "
                 f"{cell(idle, 'idle_cpu_pct', '{:.2f}')} | "
                 f"{fmt_ns(life['time_ns']) if life else '-'} |")
    L += ["", "## Plots", ""]
    for png, title in PLOTS:
        if os.path.exists(os.path.join(args.folder, png)):
            L += [f"### {title}", "", f"![{title}]({png})", ""]
    L += ["## Winners per scenario", "",
          "Fastest first (throughput: messages/s; latency scenarios: time, the "
          "median where a histogram exists). "
          "Go runs unpinned.", "",
          "<details><summary>every configuration</summary>", "",
          "| scenario | placement | parameters | winner | ranking |", "|---|---|---|---|---|"]
    L += winners(run)
    L += ["", "</details>", "", "## Files", "",
          "- `chanbench.json`, `chanbench.log`: Google Benchmark output",
          "- `go.json`, `go.log`: Go's channels", "- `env.txt`, `topology.xml`: the machine",
          "- compare two runs: `scripts/compare.py results/A results/B`", ""]
    with open(os.path.join(args.folder, "README.md"), "w") as f:
        f.write("\n".join(L))
    print(f"report: {os.path.join(args.folder, 'README.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
