#!/usr/bin/python3
"""plot.py - the plots of one chanlab results folder.

    /usr/bin/python3 scripts/plot.py results/<run> [--impl a,b]

Writes PNGs into the folder: throughput vs threads per implementation and
capacity, SPSC by capacity next to the raw ring and Go, latency by placement
with the cache-line and futex floors drawn in, latency percentiles, CPU and
context switches per message, ours vs Go, select and payload sweeps, and a
per-PU-pair latency heatmap when the machine has more than 2 PUs.
Uses Debian's python3-matplotlib (Agg backend). Exits non-zero with a message
on a missing or malformed JSON or an unknown implementation.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chanlab_results import Run, ResultsError  # noqa: E402

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CAPS = [0, 1, 128, 1024]


def style(impl):
    if impl == "go":
        return dict(color="black", linestyle="--", marker="s")
    return dict(marker="o")


def median(row):
    """Median round trip (robust to preemption on a shared machine)."""
    return row.get("p50_ns") or row["time_ns"]


def mps(row):
    return row.get("items_per_second", 0) / 1e6


def save(fig, folder, name, written):
    path = os.path.join(folder, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(name)


def plot_sweeps(run, impls, written):
    for shape in ("mpsc", "spmc", "mpmc"):
        if not run.select(shape):
            continue
        places = run.places(shape)
        place = "unpinned" if "unpinned" in places else places[0]
        fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharey=False)
        for ax, cap in zip(axes, CAPS):
            for impl in impls:
                rows = run.select(shape, impl, None if impl == "go" else place, cap=cap)
                rows.sort(key=lambda r: r["params"]["p"] + r["params"]["c"])
                if rows:
                    ax.plot([r["params"]["p"] + r["params"]["c"] for r in rows],
                            [mps(r) for r in rows], label=impl, **style(impl))
            ax.set_title(f"{shape.upper()} cap {cap}")
            ax.set_xlabel("threads (producers + consumers)")
            ax.set_ylabel("M msgs/s")
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
        axes[0].legend()
        fig.suptitle(f"{shape.upper()} throughput vs threads ({place}; "
                     f"{run.env.get('pus', '?')} PUs)")
        save(fig, run.folder, f"throughput_{shape}.png", written)


def plot_spsc(run, impls, written):
    if not run.select("spsc"):
        return
    places = run.places("spsc")
    fig, axes = plt.subplots(1, len(places), figsize=(5 * len(places), 4), squeeze=False)
    for ax, place in zip(axes[0], places):
        width = 0.8 / max(1, len(impls) + 1)
        for i, impl in enumerate(impls + ["floor"]):
            vals = []
            for cap in CAPS:
                if impl == "floor":
                    r = run.one("floor_ring", place=place, cap=cap)
                elif impl == "go":
                    r = run.one("spsc", "go", cap=cap)
                else:
                    r = run.one("spsc", impl, place, cap=cap)
                vals.append(mps(r) if r else 0)
            label = "raw ring (floor)" if impl == "floor" else impl
            ax.bar([x + i * width for x in range(4)], vals, width, label=label,
                   color="black" if impl == "go" else ("grey" if impl == "floor" else None))
        ax.set_xticks([x + width * len(impls) / 2 for x in range(4)])
        ax.set_xticklabels([f"cap {c}" for c in CAPS])
        ax.set_title(f"SPSC, {place}" + (" (Go: unpinned)" if "go" in impls else ""))
        ax.set_ylabel("M msgs/s")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    save(fig, run.folder, "spsc_by_capacity.png", written)


def plot_latency_by_placement(run, impls, written):
    places = run.places("pingpong")
    if not places:
        return
    fig, ax = plt.subplots(figsize=(max(6, 2.5 * len(places)), 4.5))
    ours = [i for i in impls if i != "go"]
    width = 0.8 / max(1, len(ours))
    for i, impl in enumerate(ours):
        vals = []
        for p in places:
            r = run.one("pingpong", impl, p)
            vals.append(median(r) if r else 0)
        ax.bar([x + i * width for x in range(len(places))], vals, width, label=impl)
    for x, p in enumerate(places):
        for floor, color in (("floor_cacheline", "red"), ("floor_futex", "purple")):
            r = run.one(floor, place=p)
            if r:
                ax.hlines(median(r), x - width / 2, x + width * (len(ours) - 0.5),
                          colors=color, linestyles="--",
                          label=floor.replace("floor_", "floor: ") if x == 0 else None)
    go = run.one("pingpong", "go")
    if go:
        ax.axhline(median(go), color="black", linestyle=":", label="go (unpinned)")
    ax.set_xticks([x + width * (len(ours) - 1) / 2 for x in range(len(places))])
    ax.set_xticklabels(places)
    ax.set_yscale("log")
    ax.set_ylabel("round trip, ns (median, log scale)")
    ax.set_title("Ping-pong latency by placement, with the hardware floors (medians)")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save(fig, run.folder, "latency_by_placement.png", written)


def plot_percentiles(run, impls, written):
    place = run.cross_place() or "unpinned"
    series = []
    for impl in impls:
        r = run.one("pingpong", impl, None if impl == "go" else place)
        if r:
            series.append((impl, r))
    for floor in ("floor_cacheline", "floor_futex"):
        r = run.one(floor, place=place)
        if r:
            series.append((floor.replace("floor_", "floor: "), r))
    if not series:
        return
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(series)), 4.5))
    qs = [("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9")]
    width = 0.8 / len(qs)
    for i, (key, label) in enumerate(qs):
        ax.bar([x + i * width for x in range(len(series))],
               [r.get(key, 0) for _, r in series], width, label=label)
    ax.set_xticks([x + width for x in range(len(series))])
    ax.set_xticklabels([n for n, _ in series], rotation=15)
    ax.set_yscale("log")
    ax.set_ylabel("round trip, ns (log scale)")
    ax.set_title(f"Ping-pong latency percentiles ({place}; Go unpinned)")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend()
    save(fig, run.folder, "latency_percentiles.png", written)


def plot_cpu(run, impls, written):
    if not run.select("spsc"):
        return
    place = "unpinned"
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    width = 0.8 / max(1, len(impls))
    for i, impl in enumerate(impls):
        cpu, csw = [], []
        for cap in CAPS:
            r = run.one("spsc", impl, None if impl == "go" else place, cap=cap)
            cpu.append(r.get("cpu_ns_per_msg", 0) if r else 0)
            csw.append(r.get("vcsw_per_msg", 0) if r else 0)
        xs = [x + i * width for x in range(4)]
        kw = {"color": "black"} if impl == "go" else {}
        axes[0].bar(xs, cpu, width, label=impl, **kw)
        axes[1].bar(xs, csw, width, label=impl, **kw)
    for ax, title in zip(axes, ("CPU ns per message (all threads)",
                                "voluntary context switches per message")):
        ax.set_xticks([x + width * (len(impls) - 1) / 2 for x in range(4)])
        ax.set_xticklabels([f"cap {c}" for c in CAPS])
        ax.set_title(f"SPSC {title}")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    save(fig, run.folder, "cpu_per_message.png", written)


def headline(run):
    """(label, scenario, params) of the scenarios Go also runs."""
    items = [("ping-pong (ns, lower is better)", "pingpong", {})]
    for cap in CAPS:
        items.append((f"SPSC cap {cap}", "spsc", {"cap": cap}))
    items += [("MPSC 4x1 cap 128", "mpsc", {"cap": 128, "p": 4, "c": 1}),
              ("MPMC 2x2 cap 128", "mpmc", {"cap": 128, "p": 2, "c": 2}),
              ("select over 4, cap 0", "select_recv", {"k": 4, "cap": 0}),
              ("select over 4, cap 128", "select_recv", {"k": 4, "cap": 128})]
    return items


def best_ours(run, scenario, params, place="unpinned"):
    rows = [r for r in run.select(scenario, place=place, **params) if r["impl"] != "go"]
    if not rows:
        return None
    if scenario == "pingpong":
        return min(rows, key=lambda r: r["time_ns"])
    return max(rows, key=lambda r: r.get("items_per_second", 0))


def plot_vs_go(run, impls, written):
    if "go" not in impls:
        return
    labels, ratios, names = [], [], []
    for label, scen, params in headline(run):
        ours, go = best_ours(run, scen, params), run.one(scen, "go", **params)
        if not ours or not go:
            continue
        if scen == "pingpong":
            ratio = go["time_ns"] / ours["time_ns"]
        else:
            ratio = mps(ours) / max(mps(go), 1e-9)
        labels.append(label.replace(" (ns, lower is better)", ""))
        ratios.append(ratio)
        names.append(ours["impl"])
    if not labels:
        return
    fig, ax = plt.subplots(figsize=(10, 4.5))
    bars = ax.bar(range(len(labels)), ratios,
                  color=["tab:green" if r >= 1 else "tab:red" for r in ratios])
    for b, n, r in zip(bars, names, ratios):
        ax.text(b.get_x() + b.get_width() / 2, b.get_height(), f"{n}\n{r:.2f}x",
                ha="center", va="bottom", fontsize=8)
    ax.axhline(1, color="black", linewidth=1)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=20, ha="right")
    ax.set_ylabel("best chanlab / Go (speed; >1 = faster)")
    ax.set_title("Ours vs Go 1.19 channels (both unpinned, same run)")
    ax.grid(axis="y", alpha=0.3)
    save(fig, run.folder, "ours_vs_go.png", written)


def plot_select(run, impls, written):
    if not run.select("select_recv"):
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, cap in zip(axes, (0, 128)):
        for impl in impls:
            rows = sorted(run.select("select_recv", impl, cap=cap), key=lambda r: r["params"]["k"])
            if rows:
                ax.plot([r["params"]["k"] for r in rows], [mps(r) for r in rows],
                        label=impl, **style(impl))
        ax.set_xscale("log", base=2)
        ax.set_xlabel("cases (k)")
        ax.set_ylabel("M msgs/s")
        ax.set_title(f"select receive over k channels, cap {cap}")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend()
    save(fig, run.folder, "select.png", written)


def plot_payload(run, impls, written):
    if not run.select("payload"):
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for impl in impls:
        rows = sorted(run.select("payload", impl), key=lambda r: r["params"]["bytes"])
        if rows:
            ax.plot([max(r["params"]["bytes"], 1) for r in rows], [mps(r) for r in rows],
                    label=impl, **style(impl))
    ax.set_xscale("log", base=2)
    ax.set_xlabel("message size, bytes (0 plotted at 1)")
    ax.set_ylabel("M msgs/s")
    ax.set_title("SPSC cap 128: payload size sweep")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, run.folder, "payload.png", written)


def plot_patterns(run, impls, written):
    sweeps = [("pattern_pipeline", "depth", "pipeline: stages"),
              ("pattern_pool", "workers", "worker pool: workers"),
              ("pattern_fanin", "inputs", "fan-in: inputs")]
    singles = ["pattern_ordone", "pattern_tee", "pattern_bridge", "pattern_errgroup",
               "pattern_first", "pattern_semaphore", "pattern_daisy"]
    if not any(run.select(s) for s, _, _ in sweeps) and not any(run.select(s) for s in singles):
        return
    ours = [i for i in impls if i != "go"]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    for ax, (scen, key, title) in zip(axes, sweeps):
        for impl in ours:
            rows = sorted(run.select(scen, impl), key=lambda r: r["params"].get(key, 0))
            if rows:
                ax.plot([r["params"][key] for r in rows], [r["time_ns"] for r in rows],
                        label=impl, **style(impl))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(title.split(": ")[1])
        ax.set_ylabel("ns per value")
        ax.set_title(title.split(":")[0])
        ax.grid(alpha=0.3, which="both")
    axes[0].legend()
    ax = axes[3]
    labels = []
    width = 0.8 / max(1, len(ours))
    for i, impl in enumerate(ours):
        vals = []
        for scen in singles:
            rows = run.select(scen, impl)
            # One figure per pattern: its smallest configuration.
            rows.sort(key=lambda r: sorted(r["params"].items()))
            vals.append(rows[0]["time_ns"] if rows else 0)
        ax.bar([x + i * width for x in range(len(singles))], vals, width, label=impl)
    labels = [s.replace("pattern_", "") for s in singles]
    ax.set_xticks([x + width * (len(ours) - 1) / 2 for x in range(len(singles))])
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("ns per value / call / link")
    ax.set_title("other patterns (smallest configuration)")
    ax.grid(axis="y", alpha=0.3, which="both")
    save(fig, run.folder, "patterns.png", written)


def plot_heatmap(run, written):
    rows = run.select("pair_cacheline")
    if not rows:
        return
    pus = sorted({r["params"]["a"] for r in rows} | {r["params"]["b"] for r in rows})
    index = {p: i for i, p in enumerate(pus)}
    grid = [[float("nan")] * len(pus) for _ in pus]
    for r in rows:
        a, b = index[r["params"]["a"]], index[r["params"]["b"]]
        grid[a][b] = grid[b][a] = r["time_ns"]
    fig, ax = plt.subplots(figsize=(1 + 0.4 * len(pus), 0.6 + 0.4 * len(pus)))
    im = ax.imshow(grid, cmap="viridis")
    ax.set_xticks(range(len(pus)))
    ax.set_xticklabels(pus)
    ax.set_yticks(range(len(pus)))
    ax.set_yticklabels(pus)
    fig.colorbar(im, label="cache-line round trip, ns")
    ax.set_title("Per-PU-pair cache-line ping-pong")
    save(fig, run.folder, "pair_heatmap.png", written)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", help="a results/<run> folder")
    ap.add_argument("--impl", help="comma-separated implementations to plot")
    args = ap.parse_args()
    try:
        wanted = args.impl.split(",") if args.impl else None
        run = Run(args.folder, wanted)
    except ResultsError as e:
        print(f"plot.py: {e}", file=sys.stderr)
        return 1
    impls = wanted or run.impls()
    written = []
    plot_sweeps(run, impls, written)
    plot_spsc(run, impls, written)
    plot_latency_by_placement(run, impls, written)
    plot_percentiles(run, impls, written)
    plot_cpu(run, impls, written)
    plot_vs_go(run, impls, written)
    plot_select(run, impls, written)
    plot_payload(run, impls, written)
    plot_patterns(run, impls, written)
    plot_heatmap(run, written)
    if not written:
        print(f"plot.py: {args.folder}: nothing to plot", file=sys.stderr)
        return 1
    print("plots: " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
