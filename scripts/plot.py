#!/usr/bin/python3
"""plot.py - the plots of one chanlab results folder.

    /usr/bin/python3 scripts/plot.py results/<run> [--impl a,b]

Writes PNGs into the folder. Every point or bar is a median over the
benchmark's repetitions with its 95% interval drawn as a whisker; there is
one series per implementation (and per extra name part such as exec:fiber),
never a "best of"; panels of one figure share their y scale; ratios are on
log axes; thread counts beyond the machine's PUs are shaded as
oversubscribed. Plots: throughput vs threads per shape, SPSC by capacity
beside the raw-ring floor, latency by placement with the floors, latency
percentiles, CPU and context switches per message, each implementation
against Go, select and payload sweeps, every pattern scenario (Go's shapes
beside them), threads vs fibers vs Go per family (ping-pong, throughput,
select, goroutine costs: exec_<family>.png), chanlab against the peers per
scenario family (peers_<family>.png), and a per-PU-pair heatmap when the
machine has more than 2 PUs. chanlab's implementations are drawn with solid
lines, the peers (Go, Rust, C/C++ libraries) dashed, the floor rows
(ck_ring) grey, dotted and hatched; fiber bars are hatched. Uses Debian's
python3-matplotlib (Agg backend). Exits non-zero with a message on missing
or malformed results or an unknown implementation.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chanlab_stats as stats  # noqa: E402

stats.check_deps("plot.py")

from chanlab_results import (CHANLAB, FLOOR, FREE, LOADED, METRICS, PEER, ResultsError,  # noqa: E402
                             Run, speedup, verdict)

import matplotlib  # noqa: E402
import matplotlib.colors  # noqa: E402
import matplotlib.ticker  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CAPS = [0, 1, 128, 1024]


class Style:
    """One colour and marker per series, the same in every plot: chanlab's
    solid, the peers dashed (Go black), the floor rows grey and dotted (bars
    hatched)."""

    def __init__(self, run):
        cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        coloured = [s for s in run.series()
                    if s.split()[0] != "go" and run.kind(s.split()[0]) != FLOOR]
        if len(coloured) > len(cycle):
            # More series than the default cycle (executors, peers): 20.
            cycle = [matplotlib.colors.to_hex(c) for c in plt.get_cmap("tab20").colors]
        markers = "os^vDP*Xh<>p"
        greys = ["dimgrey", "darkgrey", "silver"]
        self.map, i, g = {}, 0, 0
        for s in run.series():
            kind = run.kind(s.split()[0])
            if s.split()[0] == "go":
                self.map[s] = dict(color="black", marker="s", linestyle="--")
            elif kind == FLOOR:
                self.map[s] = dict(color=greys[g % len(greys)], marker="x", linestyle=":",
                                   hatch="//")
                g += 1
            else:
                self.map[s] = dict(color=cycle[i % len(cycle)], marker=markers[i % len(markers)],
                                   linestyle="-" if kind == CHANLAB else "--")
                i += 1

    def __call__(self, series, line=True):
        """Keyword arguments for errorbar (line) or, with line=False, the
        colour and hatch of a bar."""
        st = dict(self.map.get(series, {}))
        if line:
            st.pop("hatch", None)
        else:
            st = {k: v for k, v in st.items() if k in ("color", "hatch")}
        return st


def whisker(point, lo, hi):
    """(below, above) for matplotlib's yerr/xerr, which must not be
    negative: none without an interval, and none on a side where the point
    lies beyond its bound (a ratio of medians can fall just outside the
    interval of the pairwise ratios, if only by rounding)."""
    if math.isnan(lo) or math.isnan(hi):
        return 0.0, 0.0
    return max(0.0, point - lo), max(0.0, hi - point)


def med_err(row, key=None, scale=1.0):
    """(median, [[below], [above]]) for matplotlib's yerr; no whisker
    without an interval."""
    m, lo, hi = row.stat(key)
    below, above = whisker(m, lo, hi)
    return m * scale, [[below * scale], [above * scale]]


def errorbar(ax, xs, rows, label, style, key=None, scale=1.0):
    ys, lo, hi = [], [], []
    for r in rows:
        m, e = med_err(r, key, scale)
        ys.append(m)
        lo.append(e[0][0])
        hi.append(e[1][0])
    ax.errorbar(xs, ys, yerr=[lo, hi], label=label, capsize=3, **style)


def bars(ax, positions, rows, width, label, style, key=None, scale=1.0):
    ys, lo, hi = [], [], []
    for r in rows:
        if r is None:
            ys.append(0)
            lo.append(0)
            hi.append(0)
            continue
        m, e = med_err(r, key, scale)
        ys.append(m)
        lo.append(e[0][0])
        hi.append(e[1][0])
    ax.bar(positions, ys, width, yerr=[lo, hi], capsize=2, label=label,
           color=style.get("color"), hatch=style.get("hatch"),
           edgecolor="black" if style.get("color") == "black" else None)


def ticks_at(ax, xs):
    """Log-2 x axis labelled with the values measured, as plain numbers."""
    xs = sorted(set(xs))
    ax.set_xticks(xs)
    ax.set_xticklabels([str(x) for x in xs])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def mark_oversubscribed(ax, pus, xmax):
    if pus and xmax > pus:
        ax.axvspan(pus + 0.5, xmax * 1.5, color="grey", alpha=0.12, lw=0,
                   label=f"oversubscribed (> {pus} PUs)")


def legend(axes, **kw):
    """One legend on the first panel with every series any panel drew."""
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    axes[0].legend(handles, labels, fontsize=kw.get("fontsize", 8))


def log_ylim(axes, rows, key=None, scale=1.0):
    """Log-scale limits that show every bar and whisker of rows (bars start
    at 0, which a log axis cannot show)."""
    vals = []
    for r in rows:
        m, lo, hi = r.stat(key)
        vals += [v * scale for v in (m, lo, hi) if not math.isnan(v) and v > 0]
    if vals:
        for ax in axes:
            ax.set_ylim(min(vals) / 2, max(vals) * 2)


def save(fig, folder, name, written):
    path = os.path.join(folder, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(name)


def sweep_place(run, scenario):
    places = run.places(scenario)
    return "unpinned" if "unpinned" in places else (places[0] if places else None)


def plot_sweeps(run, series, style, written):
    pus = run.pus()
    for shape in ("mpsc", "spmc", "mpmc"):
        place = sweep_place(run, shape)
        if not place:
            continue
        caps = sorted({r.params.get("cap") for r in run.select(shape)})
        fig, axes = plt.subplots(1, len(caps), figsize=(4.5 * len(caps), 4), sharey=True,
                                 squeeze=False)
        xmax = 0
        for ax, cap in zip(axes[0], caps):
            for s in series:
                rows = [r for r in run.select(shape, series=s, cap=cap)
                        if r.place == place or r.impl == "go" or r.place in FREE]
                rows.sort(key=lambda r: r.params["p"] + r.params["c"])
                if rows:
                    xs = [r.params["p"] + r.params["c"] for r in rows]
                    xmax = max(xmax, max(xs))
                    errorbar(ax, xs, rows, s, style(s), scale=1e-6)
            mark_oversubscribed(ax, pus, xmax)
            ax.set_xscale("log", base=2)
            ticks_at(ax, [r.params["p"] + r.params["c"] for r in run.select(shape, cap=cap)])
            ax.set_yscale("log")
            ax.set_title(f"{shape.upper()} cap {cap}")
            ax.set_xlabel("threads (producers + consumers)")
            ax.grid(alpha=0.3, which="both")
        axes[0][0].set_ylabel("M msgs/s (median, 95% interval)")
        legend(axes[0])
        fig.suptitle(f"{shape.upper()} throughput vs threads ({place}; {pus or '?'} PUs)")
        save(fig, run.folder, f"throughput_{shape}.png", written)


def plot_spsc(run, series, style, written):
    places = [p for p in run.places("spsc") if p != "runtime"]
    if not places:
        return
    fig, axes = plt.subplots(1, len(places), figsize=(5 * len(places), 4.2), squeeze=False,
                             sharey=True)
    for ax, place in zip(axes[0], places):
        caps = sorted({r.params["cap"] for r in run.select("spsc", place=place)})
        # Go and the fibers are placed by their runtimes: beside unpinned.
        names = [s for s in series if (s.split()[0] != "go" and "exec:fiber" not in s)
                 or place == "unpinned"]
        # An older run's hand-written floor ring (today's floor is ck_spsc,
        # a series of its own).
        names += ["raw ring (floor)"] if run.select("floor_ring", place=place) else []
        width = 0.8 / max(1, len(names))
        for i, s in enumerate(names):
            if s == "raw ring (floor)":
                rows = [run.one("floor_ring", place=place, cap=c) for c in caps]
                st = {"color": "grey", "hatch": "//"}
            else:
                rows = [next(iter(run.select("spsc", series=s, cap=c, place=place)
                                  or run.select("spsc", series=s, cap=c, place=FREE)), None)
                        if s.split()[0] != "go" else run.one("spsc", "go", cap=c) for c in caps]
                st = style(s, line=False)
            bars(ax, [x + i * width for x in range(len(caps))], rows, width, s, st, scale=1e-6)
        ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(caps))])
        ax.set_xticklabels([f"cap {c}" for c in caps])
        ax.set_yscale("log")
        ax.set_title(f"SPSC, {place}" + (" (Go: unpinned)" if any(
            s.startswith("go") for s in series) and place != "unpinned" else ""))
        ax.grid(axis="y", alpha=0.3, which="both")
    log_ylim(axes[0], run.select("spsc") + run.select("floor_ring"), scale=1e-6)
    axes[0][0].set_ylabel("M msgs/s (median, 95% interval)")
    legend(axes[0], fontsize=7)
    save(fig, run.folder, "spsc_by_capacity.png", written)


def plot_latency_by_placement(run, series, style, written):
    places = run.places("pingpong")
    if not places:
        return
    ours = [s for s in series if run.select("pingpong", series=s, place=places[0])
            or any(run.select("pingpong", series=s, place=p) for p in places)]
    ours = [s for s in ours if not s.startswith("go")]
    fig, ax = plt.subplots(figsize=(max(6, 2.8 * len(places)), 4.5))
    width = 0.8 / max(1, len(ours))
    for i, s in enumerate(ours):
        rows = [next(iter(run.select("pingpong", series=s, place=p)), None) for p in places]
        bars(ax, [x + i * width for x in range(len(places))], rows, width, s, style(s, line=False))
    for x, p in enumerate(places):
        for floor, color in (("floor_cacheline", "red"), ("floor_futex", "purple")):
            r = run.one(floor, place=p)
            if r:
                m, lo, hi = r.stat()
                x0, x1 = x - width / 2, x + width * (len(ours) - 0.5)
                ax.hlines(m, x0, x1, colors=color, linestyles="--",
                          label=floor.replace("floor_", "floor: ") if x == 0 else None)
                if not math.isnan(lo):
                    ax.fill_between([x0, x1], lo, hi, color=color, alpha=0.15, lw=0)
    go = run.one("pingpong", "go")
    if go:
        m, lo, hi = go.stat()
        ax.axhline(m, color="black", linestyle=":", label="go (unpinned)")
        if not math.isnan(lo):
            ax.axhspan(lo, hi, color="black", alpha=0.08, lw=0)
    ax.set_xticks([x + width * (len(ours) - 1) / 2 for x in range(len(places))])
    ax.set_xticklabels(places)
    ax.set_yscale("log")
    log_ylim([ax], run.select("pingpong") + run.select("floor_cacheline")
             + run.select("floor_futex"))
    ax.set_ylabel("round trip, ns (median of p50s, 95% interval)")
    ax.set_title("Ping-pong latency by placement, with the hardware floors")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save(fig, run.folder, "latency_by_placement.png", written)


def plot_percentiles(run, series, style, written):
    place = run.cross_place() or "unpinned"
    entries = []
    for s in series:
        rows = run.select("pingpong", series=s, place=place) or (
            run.select("pingpong", series=s, place=FREE)
            if s.startswith("go") or "exec:fiber" in s else [])
        if rows:
            entries.append((s, rows[0]))
    for floor in ("floor_cacheline", "floor_futex"):
        r = run.one(floor, place=place)
        if r:
            entries.append((floor.replace("floor_", "floor: "), r))
    if not entries:
        return
    fig, ax = plt.subplots(figsize=(max(6, 1.7 * len(entries)), 4.5))
    qs = [("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9")]
    width = 0.8 / len(qs)
    for i, (key, label) in enumerate(qs):
        bars(ax, [x + i * width for x in range(len(entries))], [r for _, r in entries], width,
             label, {"color": plt.rcParams["axes.prop_cycle"].by_key()["color"][i]}, key=key)
    ax.set_xticks([x + width for x in range(len(entries))])
    ax.set_xticklabels([n for n, _ in entries], rotation=15)
    ax.set_yscale("log")
    vals = [r.stat(k)[i] for _, r in entries for k, _ in qs for i in range(3)]
    vals = [v for v in vals if not math.isnan(v) and v > 0]
    if vals:
        ax.set_ylim(min(vals) / 2, max(vals) * 2)
    ax.set_ylabel("round trip, ns (median over repetitions)")
    ax.set_title(f"Ping-pong latency percentiles ({place}; Go unpinned, fibers on their runtime)")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend()
    save(fig, run.folder, "latency_percentiles.png", written)


def plot_cpu(run, series, style, written):
    if not run.select("spsc", place=FREE):
        return
    caps = sorted({r.params["cap"] for r in run.select("spsc", place=FREE)})
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    width = 0.8 / max(1, len(series))
    for i, s in enumerate(series):
        rows = [next(iter(run.select("spsc", series=s, cap=c, place=FREE)), None)
                for c in caps]
        xs = [x + i * width for x in range(len(caps))]
        bars(axes[0], xs, rows, width, s, style(s, line=False), key="cpu_ns_per_msg")
        bars(axes[1], xs, rows, width, s, style(s, line=False), key="vcsw_per_msg")
    for ax, title in zip(axes, ("CPU ns per message (all threads)",
                                "voluntary context switches per message")):
        ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(caps))])
        ax.set_xticklabels([f"cap {c}" for c in caps])
        ax.set_title(f"SPSC unpinned (fibers: runtime): {title}", fontsize=9)
        ax.set_yscale("symlog", linthresh=1e-3 if "switches" in title else 1)
        ax.grid(axis="y", alpha=0.3)
    legend(axes)
    save(fig, run.folder, "cpu_per_message.png", written)


def headline_configs():
    items = [("ping-pong", "pingpong", {})]
    for cap in CAPS:
        items.append((f"SPSC cap {cap}", "spsc", {"cap": cap}))
    items += [("MPSC 4x1 cap 128", "mpsc", {"cap": 128, "p": 4, "c": 1}),
              ("MPMC 2x2 cap 128", "mpmc", {"cap": 128, "p": 2, "c": 2}),
              ("select over 4, cap 0", "select_recv", {"k": 4, "cap": 0}),
              ("select over 4, cap 128", "select_recv", {"k": 4, "cap": 128})]
    return items


def plot_vs_go(run, series, style, written):
    """Each series' speed against Go's on the configurations Go runs (all
    unpinned): a ratio with its interval, on a log axis."""
    ours = [s for s in series if not s.startswith("go")]
    configs = [(label, scen, params) for label, scen, params in headline_configs()
               if run.one(scen, "go", **params)]
    if not configs or not ours:
        return
    fig, ax = plt.subplots(figsize=(min(20, max(8, 0.22 * len(configs) * len(ours))), 4.8))
    width = 0.8 / len(ours)
    for i, s in enumerate(ours):
        xs, ys, lo, hi, colors = [], [], [], [], []
        for x, (label, scen, params) in enumerate(configs):
            rows = run.select(scen, series=s, place=FREE, **params)
            go = run.one(scen, "go", **params)
            if not rows:
                continue
            c = speedup(rows[0], go)
            xs.append(x + i * width)
            ys.append(c["ratio"])
            below, above = whisker(c["ratio"], c["lo"], c["hi"])
            lo.append(below)
            hi.append(above)
            colors.append({"a": "tab:green", "b": "tab:red"}.get(verdict(c), "lightgrey"))
        st = style(s, line=False)
        # Bars grow from 1 (as fast as Go) up or down on the log axis.
        ax.bar(xs, [y - 1 for y in ys], width, bottom=1, yerr=[lo, hi], capsize=2,
               color=st.get("color"), label=s, edgecolor=colors, linewidth=2)
    ax.axhline(1, color="black", linewidth=1)
    ax.set_xticks([x + width * (len(ours) - 1) / 2 for x in range(len(configs))])
    ax.set_xticklabels([c[0] for c in configs], rotation=20, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("speed / Go's (log; >1 = faster)")
    ax.set_title("Each implementation against Go's channels (unpinned, same run)\n"
                 "bar edge: green significantly faster, red slower, grey ~", fontsize=10)
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save(fig, run.folder, "vs_go.png", written)


def plot_select(run, series, style, written):
    if not run.select("select_recv"):
        return
    caps = sorted({r.params["cap"] for r in run.select("select_recv")})
    fig, axes = plt.subplots(1, len(caps), figsize=(6 * len(caps), 4), sharey=True, squeeze=False)
    for ax, cap in zip(axes[0], caps):
        for s in series:
            rows = sorted(run.select("select_recv", series=s, cap=cap), key=lambda r: r.params["k"])
            if rows:
                errorbar(ax, [r.params["k"] for r in rows], rows, s, style(s), scale=1e-6)
        ax.set_xscale("log", base=2)
        ticks_at(ax, [r.params["k"] for r in run.select("select_recv", cap=cap)])
        ax.set_yscale("log")
        ax.set_xlabel("cases (k)")
        ax.set_title(f"select receive over k channels, cap {cap}")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("M msgs/s (median, 95% interval)")
    legend(axes[0])
    save(fig, run.folder, "select.png", written)


def plot_payload(run, series, style, written):
    if not run.select("payload"):
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for s in series:
        rows = sorted(run.select("payload", series=s), key=lambda r: r.params["bytes"])
        if rows:
            errorbar(ax, [max(r.params["bytes"], 1) for r in rows], rows, s, style(s), scale=1e-6)
    ax.set_xscale("log", base=2)
    ticks_at(ax, [max(r.params["bytes"], 1) for r in run.select("payload")])
    ax.set_yscale("log")
    ax.set_xlabel("message size, bytes (0 plotted at 1)")
    ax.set_ylabel("M msgs/s (median, 95% interval)")
    ax.set_title("SPSC cap 128: payload size sweep")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save(fig, run.folder, "payload.png", written)


# Pattern scenarios whose figure is not per value (the sieve: a whole run),
# drawn in a figure of their own rather than on the patterns' shared scale.
OWN_FIGURE = {"pattern_sieve"}


def plot_patterns(run, series, style, written):
    """One panel per pattern scenario (scenarios.def's PATTERN group), one
    group of bars per configuration the run measured."""
    scens = [n for n, m in run.scenarios.items() if m["group"] == "pattern" and run.select(n)
             and n not in OWN_FIGURE]
    if not scens:
        return
    cols = min(5, len(scens))
    nrows = (len(scens) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(3.6 * cols, 3.2 * nrows), sharey=True,
                             squeeze=False)
    panels = [a for row in axes for a in row]
    for ax, scen in zip(panels, scens):
        rows = run.select(scen)
        configs = sorted({tuple(sorted(r.params.items())) for r in rows})
        names = [s for s in series if run.select(scen, series=s)]
        width = 0.8 / max(1, len(names))
        for i, s in enumerate(names):
            rs = [next(iter(run.select(scen, series=s, **dict(cfg))), None) for cfg in configs]
            bars(ax, [x + i * width for x in range(len(configs))], rs, width, s,
                 style(s, line=False))
        ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(configs))])
        ax.set_xticklabels([" ".join(f"{k}={v}" for k, v in cfg) or "-" for cfg in configs],
                           fontsize=7, rotation=20 if len(configs) > 3 else 0)
        ax.set_yscale("log")
        ax.set_title(scen.replace("pattern_", ""))
        ax.grid(axis="y", alpha=0.3, which="both")
    log_ylim(panels, [r for scen in scens for r in run.select(scen)])
    for ax in panels[len(scens):]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel("ns per value / call / link")
    legend(panels, fontsize=7)
    fig.suptitle("Go's concurrency patterns (medians, 95% intervals)")
    save(fig, run.folder, "patterns.png", written)


# ---- executors: threads, fibers and Go ---------------------------------------

# A figure per family: (file, title, panels (label, scenario, parameters)).
EXEC_FAMILIES = [
    ("exec_pingpong.png", "Ping-pong round trip: threads, fibers and Go",
     [("ping-pong, unbuffered", "pingpong", {})]),
    ("exec_throughput.png", "Throughput: threads, fibers and Go",
     [("SPSC cap 0", "spsc", dict(cap=0)), ("SPSC cap 128", "spsc", dict(cap=128)),
      ("MPSC 4x1 cap 128", "mpsc", dict(cap=128, p=4, c=1)),
      ("SPMC 1x4 cap 128", "spmc", dict(cap=128, p=1, c=4)),
      ("MPMC 2x2 cap 0", "mpmc", dict(cap=0, p=2, c=2)),
      ("MPMC 2x2 cap 128", "mpmc", dict(cap=128, p=2, c=2))]),
    ("exec_select.png", "Select over 4 channels: threads, fibers and Go",
     [("select over 4, cap 0", "select_recv", dict(k=4, cap=0)),
      ("select over 4, cap 128", "select_recv", dict(k=4, cap=128))]),
    ("exec_runtime.png", "What a goroutine costs: threads, fibers and Go",
     [("switch (a round trip: 2 switches)", "switch", {}),
      ("spawn + exit + join", "spawn", {}),
      ("daisy chain, 1000 links", "pattern_daisy", dict(links=1000)),
      ("daisy chain, 10000 links", "pattern_daisy", dict(links=10000)),
      ("daisy chain, 100000 links", "pattern_daisy", dict(links=100000))]),
    ("exec_sieve.png", "Prime sieve, a goroutine per prime: threads, fibers and Go",
     [(f"time to find the first {n} primes", "pattern_sieve", dict(primes=n))
      for n in (100, 300, 1000)]),
]


def exec_panel_rows(run, scenario, params):
    """A configuration's rows on every executor: threads where the OS places
    them, fibers on their runtime, Go (the runtime scenarios: every row).
    Of the other peers only those that also ran on fibers (Boost.Fiber on
    its own scheduler, on threads and on fibers) and tokio's tasks (an M:N
    runtime, as Go's): the peers on threads alone are in the peers' figures."""
    on_fibers = {r.impl for r in run.rows if r.exec == "fiber"}
    return [r for r in run.select(scenario, **params)
            if (r.place in FREE or r.meta["group"] == "runtime")
            and (r.impl in ("go", "tokio") or r.impl in on_fibers
                 or run.kind(r.impl) == CHANLAB)]


def plot_executors(run, series, style, written):
    """One figure per family: a bar per series (chanlab's on threads and on
    fibers; fiber bars hatched), Go's median as a dashed line with its
    interval as a band; shared log y scale within a figure."""
    for name, title, panels in EXEC_FAMILIES:
        panels = [(label, scen, params, exec_panel_rows(run, scen, params))
                  for label, scen, params in panels]
        panels = [p for p in panels if any(r.exec == "fiber" or r.impl == "fiber" for r in p[3])]
        if not panels:
            continue
        metric = panels[0][3][0].meta["metric"]
        scale = 1e-6 if metric == "rate" else 1.0
        width = max(4.5, 2.2 + 0.45 * max(len(p[3]) for p in panels)) * len(panels)
        fig, axes = plt.subplots(1, len(panels), figsize=(max(8, width), 4.6), sharey=True,
                                 squeeze=False)
        order = {s: i for i, s in enumerate(run.series())}
        for ax, (label, scen, params, rows) in zip(axes[0], panels):
            go = [r for r in rows if r.impl == "go"]
            ours = sorted([r for r in rows if r.impl != "go" and r.series in series],
                          key=lambda r: (order.get(r.series, 99), r.place))
            for x, r in enumerate(ours):
                m, e = med_err(r, scale=scale)
                st = style(r.series, line=False)
                ax.bar([x], [m], 0.7, yerr=e, capsize=3, color=st.get("color"),
                       hatch="//" if r.exec == "fiber" or r.impl == "fiber" else None,
                       edgecolor="black", linewidth=0.5)
            for r in go:
                m, lo, hi = r.stat()
                ax.axhline(m * scale, color="black", linestyle="--", label="go")
                if not math.isnan(lo):
                    ax.axhspan(lo * scale, hi * scale, color="black", alpha=0.1, lw=0)
            ax.set_xticks(range(len(ours)))
            ax.set_xticklabels([r.series + ("" if r.place in FREE else f" ({r.place})")
                                for r in ours], rotation=35, ha="right", fontsize=7)
            ax.set_yscale("log")
            ax.set_title(label, fontsize=9)
            ax.grid(axis="y", alpha=0.3, which="both")
            if go:
                ax.legend(fontsize=7)
        log_ylim(axes[0], [r for p in panels for r in p[3]], scale=scale)
        unit = {"rate": "M msgs/s", "latency": "round trip, ns (p50)",
                "time": "ns per operation"}.get(metric, METRICS[metric]["unit"])
        axes[0][0].set_ylabel(f"{unit} (median, 95% interval)")
        fig.suptitle(f"{title}\n(threads unpinned, fibers hatched on their scheduler, Go dashed "
                     "with its interval)", fontsize=10)
        save(fig, run.folder, name, written)


# The scenario families of the peers' figures: (file suffix, scenarios, title).
FAMILIES = [("pingpong", ["pingpong"], "Ping-pong round trip"),
            ("spsc", ["spsc"], "SPSC throughput"),
            ("mpsc", ["mpsc"], "MPSC throughput"),
            ("spmc", ["spmc"], "SPMC throughput"),
            ("mpmc", ["mpmc"], "MPMC throughput"),
            ("payload", ["payload"], "SPSC cap 128 by message size"),
            ("select", ["select_recv", "select_both", "select_many"], "Select")]


def peer_configs(run, scenarios):
    """[(scenario, place, params, rows)]: the configurations of these
    scenarios where chanlab and at least one peer both ran."""
    out = []
    for (scen, place, params), rows in sorted(run.groups().items(),
                                              key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
        if scen not in scenarios:
            continue
        if run.of_kind(rows, CHANLAB) and run.of_kind(rows, PEER):
            out.append((scen, place, params, rows))
    return out


def best(rows):
    return max(rows, key=lambda r: r.value if r.higher_is_better else -r.value) if rows else None


def plot_peers(run, series, style, written):
    """Per scenario family, one panel per configuration that chanlab and a
    peer both ran: every series' median with its 95% interval (horizontal
    bars, best at the top, one log scale for the figure), and in the title
    chanlab's best against the best peer with the ratio's interval and the
    verdict."""
    shown = set(series)
    for suffix, scens, title in FAMILIES:
        configs = peer_configs(run, scens)
        if not configs:
            continue
        cols = min(3, len(configs))
        nrows = (len(configs) + cols - 1) // cols
        most = max(len(rows) for *_, rows in configs)
        fig, axes = plt.subplots(nrows, cols, figsize=(5.2 * cols, (0.6 + 0.28 * most) * nrows + 0.6),
                                 sharex=True, squeeze=False)
        panels = [a for row in axes for a in row]
        metric = configs[0][3][0].meta["metric"]
        scale = 1e-6 if metric == "rate" else 1.0
        every = []
        for ax, (scen, place, params, rows) in zip(panels, configs):
            rows = [r for r in rows if r.series in shown]
            rows.sort(key=lambda r: r.value if r.higher_is_better else -r.value)
            every += rows
            for y, r in enumerate(rows):
                m, e = med_err(r, scale=scale)
                st = style(r.series, line=False)
                ax.barh(y, m, xerr=[e[0], e[1]], capsize=2, color=st.get("color"),
                        hatch=st.get("hatch"),
                        edgecolor="black" if run.kind(r.impl) == CHANLAB else None)
            ax.set_yticks(range(len(rows)))
            ax.set_yticklabels([r.series + {PEER: " (peer)", LOADED: " (loaded)", FLOOR: " (floor)"}.get(
                run.kind(r.impl), "") for r in rows], fontsize=7)
            ours, peer = best(run.of_kind(rows, CHANLAB)), best(run.of_kind(rows, PEER))
            desc = " ".join(f"{k}={v2}" for k, v2 in params)
            head = f"{scen if len(scens) > 1 else ''} {desc} ({place})".strip()
            if ours and peer:
                c = speedup(ours, peer)
                v = {"a": "chanlab faster", "b": "peer faster"}.get(verdict(c), "~ no difference")
                ci = "" if math.isnan(c["lo"]) else f" [{c['lo']:.2g}, {c['hi']:.2g}]"
                head += f"\n{ours.series} / {peer.series}: {c['ratio']:.2g}x{ci}, {v}"
            ax.set_title(head, fontsize=8)
            ax.set_xscale("log")
            ax.grid(axis="x", alpha=0.3, which="both")
        vals = [v * scale for r in every for v in r.stat() if not math.isnan(v) and v > 0]
        if vals:
            panels[0].set_xlim(min(vals) / 1.5, max(vals) * 1.5)
        for ax in panels[len(configs):]:
            ax.set_visible(False)
        unit = "M msgs/s" if metric == "rate" else "ns, median round trip" \
            if metric == "latency" else "ns"
        for ax in axes[-1]:
            ax.set_xlabel(f"{unit} (median, 95% interval; log)", fontsize=8)
        fig.suptitle(f"{title}: chanlab (black edge) against the peers, same run "
                     "(ratio: speed, >1 = chanlab's best faster)", fontsize=10)
        save(fig, run.folder, f"peers_{suffix}.png", written)


def plot_heatmap(run, written):
    rows = run.select("pair_cacheline")
    if not rows:
        return
    pus = sorted({r.params["a"] for r in rows} | {r.params["b"] for r in rows})
    index = {p: i for i, p in enumerate(pus)}
    grid = [[float("nan")] * len(pus) for _ in pus]
    for r in rows:
        a, b = index[r.params["a"]], index[r.params["b"]]
        grid[a][b] = grid[b][a] = r.value
    fig, ax = plt.subplots(figsize=(1 + 0.4 * len(pus), 0.6 + 0.4 * len(pus)))
    im = ax.imshow(grid, cmap="viridis")
    ax.set_xticks(range(len(pus)))
    ax.set_xticklabels(pus)
    ax.set_yticks(range(len(pus)))
    ax.set_yticklabels(pus)
    fig.colorbar(im, label="cache-line round trip, ns (median)")
    ax.set_title("Per-PU-pair cache-line ping-pong")
    save(fig, run.folder, "pair_heatmap.png", written)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", help="a results/<run> folder")
    ap.add_argument("--impl", help="comma-separated implementations to plot")
    args = ap.parse_args()
    try:
        if os.path.exists(args.folder) and not os.path.isdir(args.folder):
            raise ResultsError(f"{args.folder}: not a results folder")
        wanted = args.impl.split(",") if args.impl is not None else None
        if wanted is not None and not all(wanted):
            raise ResultsError("empty name in --impl")
        run = Run(args.folder, wanted)
    except ResultsError as e:
        print(f"plot.py: {e}", file=sys.stderr)
        return 1
    series = [s for s in run.series() if wanted is None or s.split()[0] in wanted]
    style = Style(run)
    written = []
    plot_sweeps(run, series, style, written)
    plot_spsc(run, series, style, written)
    plot_latency_by_placement(run, series, style, written)
    plot_percentiles(run, series, style, written)
    plot_cpu(run, series, style, written)
    plot_vs_go(run, series, style, written)
    plot_select(run, series, style, written)
    plot_payload(run, series, style, written)
    plot_patterns(run, series, style, written)
    plot_executors(run, series, style, written)
    plot_peers(run, series, style, written)
    plot_heatmap(run, written)
    if not written:
        print(f"plot.py: {args.folder}: nothing to plot", file=sys.stderr)
        return 1
    print("plots: " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
