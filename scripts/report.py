#!/usr/bin/python3
"""report.py - writes results/<run>/README.md, the report page of one run.

    /usr/bin/python3 scripts/report.py results/<run> [--baseline DIR] [--loaded DIR]

Every figure on the page is the median of the benchmark's repetitions with
its 95% interval; every comparison is a verdict with three values (one side
faster, or "~" when a Mann-Whitney U test cannot tell them apart at
p < 0.05); every target is met, missed or inconclusive from the interval of
its ratio. The page also says what the run itself shows about the machine
(topology.xml, env.txt, the JSON contexts), how noisy the run was (other
processes' CPU and steal time per repetition, dropped repetitions, spread),
which results are impossible (a channel beating its hardware floor marks the
floor noisy; CPU meters beyond what the threads could use), and Google
Benchmark's own warnings. With a loaded pass (<run>/loaded/, written by
scripts/run.sh --loaded, or --loaded DIR) it also shows how much threads,
fibers and Go slow down under a background load. Exits non-zero with a message on missing or
malformed input.
"""
import argparse
import math
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chanlab_stats as stats  # noqa: E402

stats.check_deps("report.py")

from chanlab_results import (CHANLAB, FLOOR, FREE, GO_SHAPES, LOADED,  # noqa: E402
                             NOISE_OTHER_PCT, NOISE_STEAL_PCT, PEER, ResultsError, Run, slowdown,
                             slowdown_ratio, speedup, verdict)

PLOTS = [
    ("vs_go.png", "Each implementation against Go, same run (speed ratio, log scale)"),
    ("latency_by_placement.png", "Ping-pong by placement, with the floors"),
    ("latency_percentiles.png", "Ping-pong percentiles"),
    ("spsc_by_capacity.png", "SPSC by capacity, with the raw-ring floor"),
    ("throughput_mpsc.png", "MPSC vs threads"),
    ("throughput_spmc.png", "SPMC vs threads"),
    ("throughput_mpmc.png", "MPMC vs threads"),
    ("select.png", "Select over k channels"),
    ("cpu_per_message.png", "CPU and context switches per message"),
    ("payload.png", "Payload size sweep"),
    ("patterns.png", "Go concurrency patterns (threads, fibers, Go)"),
    ("exec_pingpong.png", "Ping-pong: threads, fibers and Go"),
    ("exec_throughput.png", "Throughput: threads, fibers and Go"),
    ("exec_select.png", "Select: threads, fibers and Go"),
    ("exec_runtime.png", "What a goroutine costs: switch, spawn, daisy chains"),
    ("exec_sieve.png", "Prime sieve: threads, fibers and Go"),
    ("pair_heatmap.png", "Per-PU-pair cache-line latency"),
]
# The peers' figures (plot.py's FAMILIES), shown in their own section.
PEER_PLOTS = [
    ("peers_pingpong.png", "Ping-pong: chanlab against the peers"),
    ("peers_spsc.png", "SPSC: chanlab against the peers"),
    ("peers_mpsc.png", "MPSC: chanlab against the peers"),
    ("peers_spmc.png", "SPMC: chanlab against the peers"),
    ("peers_mpmc.png", "MPMC: chanlab against the peers"),
    ("peers_payload.png", "Payload sizes: chanlab against the peers"),
    ("peers_select.png", "Select: chanlab against the peers"),
]


def fmt_x(v):
    return "-" if v is None or math.isnan(v) else f"{v:.3g}x"


def fmt_ratio(c):
    """'1.20x [1.05, 1.37]' from a speedup()/compare() result."""
    ci = "" if math.isnan(c["lo"]) else f" [{c['lo']:.3g}, {c['hi']:.3g}]"
    return f"{fmt_x(c['ratio'])}{ci}"


def invert(c):
    """The same comparison read the other way (b against a)."""
    return dict(c, ratio=1 / c["ratio"], lo=1 / c["hi"] if c["hi"] else math.nan,
                hi=1 / c["lo"] if c["lo"] else math.nan)


# ---- the machine, from the run --------------------------------------------

def topology_facts(folder):
    """Sentences about the machine from its hwloc topology.xml."""
    path = os.path.join(folder, "topology.xml")
    if not os.path.exists(path):
        return ["(no topology.xml in this run)"]
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return [f"(topology.xml unreadable: {e})"]
    objs = list(root.iter("object"))

    def count(t):
        return sum(1 for o in objs if o.get("type") == t)

    def pus_below(o):
        return sum(1 for x in o.iter("object") if x.get("type") == "PU")

    pus, cores = count("PU"), count("Core")
    facts = [f"{count('Package')} package(s), {count('NUMANode')} NUMA node(s), "
             f"{cores} core(s), {pus} PU(s)"
             + (" (SMT: several PUs per core)" if pus > cores else " (no SMT)")]
    for level in ("L3Cache", "L2Cache"):
        caches = [o for o in objs if o.get("type") == level]
        if caches:
            shares = sorted({pus_below(o) for o in caches})
            size = int(caches[0].get("cache_size", 0)) // 1024
            facts.append(f"{len(caches)} {level[:2]} cache(s) of {size} KiB, "
                         f"each shared by {'/'.join(map(str, shares))} PU(s)")
    return facts


def machine_name(run):
    """'<CPU model>, <n> PUs' from env.txt, or "" when the run does not
    say."""
    cpu, pus = run.env.get("cpu_model"), run.pus()
    if not cpu:
        return ""
    return cpu + (f", {pus} PUs" if pus else "")


def on_machine(run):
    """' on <CPU model>, <n> PUs' for a heading: every section of figures
    names the machine they were measured on."""
    name = machine_name(run)
    return f" on {name}" if name else ""


def machine(run):
    L = ["## The machine and the run", "",
         "From this run's `env.txt`, `topology.xml` and JSON contexts:", ""]
    env = run.env
    for k in ("cpu_model", "pus", "kernel", "compiler", "c_flags", "allocator",
              "google_benchmark", "go", "git_commit", "suite", "command"):
        if k in env:
            L.append(f"- {k}: {env[k]}")
    L.append("- topology: " + "; ".join(topology_facts(run.folder)))
    for k, v in sorted(run.context.items()):
        if k.startswith("impl."):
            L.append(f"- implementation `{k[5:]}`: {v}")
    for k, v in sorted(run.context.items()):
        if k.startswith("placement."):
            L.append(f"- placement `{k[10:]}`: {v}")
    durations = [f"{k[:-8]} {float(v) / 60:.1f} min" for k, v in env.items()
                 if k.endswith("_seconds") and v.replace(".", "").isdigit()]
    if durations:
        L.append("- durations: " + ", ".join(durations))
    if "load_before" in env:
        L.append(f"- load average before / after: {env['load_before']} / {env.get('load_after', '?')}")
    warnings = []
    for name, ctx in run.contexts.items():
        if str(ctx.get("library_build_type", "")).lower() == "debug":
            warnings.append(f"{name}: Google Benchmark reports its library as a DEBUG build "
                            "(Debian's libbenchmark says so; chanbench times its rounds itself "
                            "with manual time, so the timing loop's own overhead is outside the "
                            "figures)")
        if ctx.get("cpu_scaling_enabled") is True:
            warnings.append(f"{name}: Google Benchmark saw CPU frequency scaling enabled: "
                            "real time figures may vary with the clock")
    if warnings:
        L += ["", "Google Benchmark's warnings:", ""] + [f"- {w}" for w in warnings]
    return L


# ---- quality ------------------------------------------------------------------

def impossible(run):
    """(floors marked noisy {row name: why}, impossible figures
    {(row name, counter): why}). A channel cannot beat its hardware floor, so
    a floor it beats was measured badly; CPU meters cannot exceed what the
    PUs could spend, nor see nothing of work that was done."""
    noisy_floors, bad = {}, {}
    pus = run.pus() or 1
    for place in run.places("pingpong"):
        floor = run.one("floor_cacheline", place=place)
        if not floor:
            continue
        for r in run.select("pingpong", place=place):
            c = speedup(r, floor)
            if verdict(c) == "a":
                noisy_floors[floor.name] = (f"beaten by {r.series} ({fmt_x(c['ratio'])} faster): "
                                            "a floor cannot be beaten, so it was measured badly")
    for place in run.places("spsc"):
        for cap in sorted({r.params.get("cap") for r in run.select("spsc", place=place)}):
            ring = run.ring_floor(place, cap)
            if not ring:
                continue
            for r in run.select("spsc", place=place, cap=cap):
                if run.kind(r.impl) == FLOOR:
                    continue
                c = speedup(r, ring)
                if verdict(c) == "a" and c["lo"] > 1.1:
                    noisy_floors[ring.name] = (f"beaten by {r.series} ({fmt_x(c['ratio'])}): the "
                                               "raw ring is the non-blocking floor, so it was "
                                               "measured badly")
    for r in run.rows:
        if r.error:
            continue
        cpu, wall = r.stat("cpu_ns_per_msg")[0], r.stat("time_ns")[0]
        # The time is the span of the round (role threads: at most the PUs
        # work in it) or, for Google Benchmark's own threads, their average
        # (at most every thread works all of it).
        threads = max(int(r.good[0].get("threads", 1)), 1) if r.good else 1
        most = max(pus, threads)
        if not math.isnan(cpu) and not math.isnan(wall) and wall > 0:
            if cpu > most * wall * 1.1:
                bad[(r.name, "cpu_ns_per_msg")] = (
                    f"{cpu:.3g} CPU-ns per message is more than {most} threads on {pus} PUs "
                    f"can spend in {wall:.3g} ns: the CPU meter is wrong")
            if cpu == 0 and r.scenario in ("spsc", "mpsc", "spmc", "mpmc", "pingpong"):
                bad[(r.name, "cpu_ns_per_msg")] = ("0 CPU-ns per message: the CPU meter cannot "
                                                   "see this work")
        idle = r.stat("idle_cpu_pct")[0]
        if not math.isnan(idle) and idle > 100.5:
            bad[(r.name, "idle_cpu_pct")] = f"an idle waiter at {idle:.3g}% of a CPU"
        if not math.isnan(r.value) and r.value <= 0 and r.meta["metric"] in ("rate", "latency", "time"):
            bad[(r.name, "figure")] = f"a figure of {r.value:.3g} is impossible"
    return noisy_floors, bad


def quality(run, noisy_floors, bad):
    rows = [r for r in run.rows if not r.error]
    reps = [len(r.good) for r in rows]
    all_reps = sum(reps)
    noisy = sum(len(r.noisy_reps()) for r in rows)
    dropped = sum(len(r.dropped) for r in run.rows)
    others = [x["noise_other_pct"] for r in rows for x in r.good if "noise_other_pct" in x]
    steals = [x["noise_steal_pct"] for r in rows for x in r.good if "noise_steal_pct" in x]
    L = ["## How far to trust this run", ""]
    L.append(f"- {len(rows)} benchmarks, {min(reps) if reps else 0}-{max(reps) if reps else 0} "
             f"repetitions each ({all_reps} in all), run in a random interleaved order.")
    if others:
        L.append(f"- Other processes used a median {stats.median(others):.1f}% of the machine's CPU "
                 f"during a repetition (max {max(others):.0f}%); the hypervisor stole a median "
                 f"{stats.median(steals):.1f}% (max {max(steals):.0f}%).")
    L.append(f"- {noisy} of {all_reps} repetitions ({100 * noisy / max(all_reps, 1):.0f}%) ran while "
             f"other processes took at least {NOISE_OTHER_PCT:.0f}% of the CPU or the hypervisor "
             f"stole at least {NOISE_STEAL_PCT:.0f}%: figures from a shared machine; "
             f"{dropped} repetitions were dropped because the machine was too busy to finish them "
             "within their time budget.")
    few = [r for r in rows if len(r.good) < stats.min_samples()]
    if few:
        L.append(f"- {len(few)} benchmarks have fewer than {stats.min_samples()} good repetitions, "
                 "too few for a 95% interval of the median (their intervals read 'too few samples').")
    flagged = {}
    for r in rows:
        for f in r.flags():
            flagged.setdefault(f.split(":")[0].split(" (")[0], []).append(r)
    spread = flagged.get("high spread", [])
    if spread:
        worst = sorted(spread, key=lambda r: -(r.stat()[2] - r.stat()[1]) / max(r.value, 1e-300))[:5]
        L.append(f"- {len(spread)} benchmarks have a high spread (interval wider than ±25% of the "
                 "median): " + ", ".join(f"`{r.name}` {r.fmt()}" for r in worst)
                 + (" ..." if len(spread) > 5 else ""))
    noisy_rows = flagged.get("noisy", [])
    if noisy_rows:
        L.append(f"- {len(noisy_rows)} benchmarks had most of their repetitions on a shared machine.")
    if noisy_floors or bad:
        L += ["", "Impossible results (marked where they appear; a target resting on a "
              "mismeasured floor is inconclusive, an impossible figure is left out of the "
              "rankings):", ""]
        L += [f"- `{name}`: {why}" for name, why in noisy_floors.items()]
        L += [f"- `{name}`: {why}" for (name, _), why in bad.items()]
    return L


# ---- verdicts -------------------------------------------------------------------

def ranking(rows):
    """Rows best first, and the verdict: (winner, tied) where tied are the
    rows a test cannot separate from the best."""
    rows = sorted(rows, key=lambda r: (-r.value if r.higher_is_better else r.value))
    best = rows[0]
    tied = [r for r in rows[1:] if verdict(speedup(best, r)) != "a"]
    return rows, best, tied


def verdict_text(best, tied):
    if tied:
        return f"~ {best.series}, " + ", ".join(r.series for r in tied)
    return f"**{best.series}**"


def winners(run):
    """A line per configuration: the ranking of chanlab's rows and the
    peers' (the floor rows, yardsticks, follow it unranked)."""
    lines = []
    groups = run.groups()
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2])):
        rows = [r for r in groups[key] if run.kind(r.impl) != FLOOR and r.scenario != "idle"]
        floors = run.of_kind(groups[key], FLOOR)
        if len(rows) < 2:
            continue
        scen, place, params = key
        rows, best, tied = ranking(rows)
        desc = " ".join(f"{k}={v}" for k, v in params)
        lines.append(f"| {scen} | {place} | {desc} | {verdict_text(best, tied)} | "
                     + "; ".join(f"{r.series} {r.fmt()}" for r in rows)
                     + "".join(f"; (floor: {r.series} {r.fmt()})" for r in floors) + " |")
    return lines


def best_of(rows):
    rows = [r for r in rows if r.impl not in ("floor",) and not r.error]
    if not rows:
        return None
    return max(rows, key=lambda r: r.value if r.higher_is_better else -r.value)


def on_fibers(r):
    """A row measured on fibers (exec:fiber: chanlab's runtime, or a peer's
    own scheduler; the runtime scenarios' impl:fiber)."""
    return r.exec == "fiber" or r.impl == "fiber"


def target(label, candidates, baseline, bound, noisy_floors, show_latency=False, why="",
           fibers=False):
    """A target "each candidate's speed / baseline's >= bound" (for latency,
    "within 1/bound times the baseline"): met if some candidate's interval is
    wholly above the bound, missed if every candidate's is wholly below,
    otherwise inconclusive. The candidates are chanlab's rows (the callers
    pass run.of_kind(..., CHANLAB)): those on threads, or with fibers=True
    those on chanlab's fibers)."""
    candidates = [c for c in candidates if not c.error and on_fibers(c) == fibers]
    if not candidates or baseline is None:
        return None
    results = [(c, speedup(c, baseline)) for c in candidates]
    verdicts = [stats.threshold_verdict(s["lo"], s["hi"], bound, True) for _, s in results]
    best, s = max(results, key=lambda cs: cs[1]["ratio"])
    v = "met" if "met" in verdicts else "missed" if all(x == "missed" for x in verdicts) \
        else "inconclusive"
    shown = invert(s) if show_latency else s
    measured = (f"{best.series} {best.fmt()} vs {baseline.series} {baseline.fmt()}: "
                f"{fmt_ratio(shown)}{' the latency' if show_latency else ''}")
    if baseline.name in noisy_floors:
        v, why = "inconclusive", f"the floor is noisy ({noisy_floors[baseline.name]})"
    return label, measured, v + (f": {why}" if why else "")


def targets(run, noisy_floors):
    """The channels' targets on threads, each against this run's own floors,
    Go and crossbeam."""
    out = []
    cross = run.cross_place()

    def ours(scenario, **kw):
        return run.of_kind(run.select(scenario, **kw), CHANLAB)

    if cross:
        out.append(target(f"Ping-pong across cores ({cross}) within 1.3x of the cache-line floor",
                          ours("pingpong", place=cross),
                          run.one("floor_cacheline", place=cross), 1 / 1.3, noisy_floors, True))
    cb = run.one("spsc", "crossbeam", place="unpinned", cap=0)
    sp0 = ours("spsc", place="unpinned", cap=0)
    if cb:
        out.append(target("Unbuffered SPSC at least 2x crossbeam", sp0, cb, 2, noisy_floors))
    elif sp0:
        b = best_of(sp0)
        m, lo, hi = b.stat()
        out.append(("Unbuffered SPSC at least 2x crossbeam (crossbeam not in this run: its "
                    "1 M/s measured elsewhere, so 2 M/s)", f"{b.series} ({b.place}) {b.fmt()}",
                    stats.threshold_verdict(lo, hi, 2e6, True)))
    for cap in (128, 1024):
        go = run.one("spsc", "go", cap=cap)
        out.append(target(f"SPSC cap {cap} at least 2x Go", ours("spsc", place="unpinned", cap=cap),
                          go, 2, noisy_floors))
        for place in run.places("spsc"):
            ring = run.ring_floor(place, cap)
            if ring:
                floor = ring.series if ring.scenario == "spsc" else ring.scenario
                out.append(target(f"SPSC cap {cap} within 10% of a raw ring ({place}; the floor: "
                                  f"{floor})", ours("spsc", place=place, cap=cap),
                                  ring, 0.9, noisy_floors))
    for label, scen, params in (("MPMC 2x2 cap 128", "mpmc", dict(cap=128, p=2, c=2)),
                                ("MPSC 4x1 cap 128", "mpsc", dict(cap=128, p=4, c=1))):
        out.append(target(f"{label} at least Go's", ours(scen, place="unpinned", **params),
                          run.one(scen, "go", **params), 1, noisy_floors))
    for cap in (0, 128):
        out.append(target(f"Select over 4 (cap {cap}) at least 1.5x Go",
                          ours("select_recv", place="unpinned", k=4, cap=cap),
                          run.one("select_recv", "go", k=4, cap=cap), 1.5, noisy_floors))
    out.append(target("Pinned to one CPU: ping-pong within 1.5x of the one-core futex floor",
                      ours("pingpong", place="same_pu"),
                      run.one("floor_futex", place="same_pu"), 1 / 1.5, noisy_floors, True))
    per_impl = {}
    for r in run.rows:
        if r.scenario in ("pingpong", "spsc", "mpsc", "spmc", "mpmc", "select_recv",
                          "select_both", "select_many", "payload") \
                and not r.error and run.kind(r.impl) == CHANLAB and not on_fibers(r):
            m, lo, hi = r.stat("alloc_bytes_per_op")
            if not math.isnan(m):
                per_impl[r.series] = max(per_impl.get(r.series, 0), hi if not math.isnan(hi) else m)
    if per_impl:
        worst = max(per_impl.values())
        out.append(("0 bytes allocated per send, receive and select",
                    ", ".join(f"{k}: at most {v:.3g} B/op" for k, v in sorted(per_impl.items())),
                    "met" if worst == 0 else f"missed (worst {worst:.3g} B/op)"))
    return [t for t in out if t]


# ---- the executors: threads, fibers and Go ----------------------------------

# Scenarios whose operations must allocate nothing, on fibers too.
NO_ALLOC_SCENARIOS = ("pingpong", "spsc", "mpsc", "spmc", "mpmc", "select_recv",
                      "select_both", "select_many", "payload")
IDLE_CPU_PCT = 1.0  # an idle runtime: at most 1% of one CPU


def fibers(run, scenario, **params):
    """chanlab's rows on its fibers (a peer's own fibers are in the peers'
    section)."""
    return [r for r in run.of_kind(run.select(scenario, **params), CHANLAB) if on_fibers(r)]


def thread_regressions(run, baseline):
    """A verdict on "the thread executor did not get slower": every chanlab
    row on threads in this run against the same row of a baseline run
    (without its exec:thread part if the baseline predates the executor
    axis), judged as compare.py judges a change."""
    from compare import changed
    if baseline is None:
        return ("no baseline run given (report.py --baseline results/<run>, or "
                "scripts/run.sh --baseline)", "inconclusive")
    base = {r.name: r for r in baseline.rows if not r.error}
    ours = {k[6:] for k, v in run.context.items()
            if k.startswith("queue.") and str(v).startswith("chanlab")}
    pairs = []
    for r in run.rows:
        if r.error or on_fibers(r) or r.impl not in ours:
            continue
        b = base.get(r.name) or base.get(r.name.replace("/exec:thread", ""))
        if b:
            pairs.append((r, b, speedup(r, b)))
    if not pairs:
        return (f"no row of this run is in the baseline {baseline.folder}", "inconclusive")
    worse = [(r, c) for r, b, c in pairs if changed(c) and c["ratio"] < 1]
    untestable = sum(1 for _, _, c in pairs if not c["testable"])
    measured = (f"{len(pairs)} thread rows against {baseline.folder}: {len(worse)} "
                "significantly slower beyond 5%")
    if worse:
        r, c = min(worse, key=lambda rc: rc[1]["ratio"])
        return (measured + f" (worst `{r.name}` at {fmt_ratio(c)} the speed; two runs of one "
                "commit have shown 2 of 140 such rows)", "missed")
    if untestable * 2 > len(pairs):
        return (measured + f"; {untestable} rows have too few repetitions to test",
                "inconclusive")
    return measured, "met"


def fiber_targets(run, baseline=None):
    """The fiber runtime's targets besides its speed against Go (that is
    the "Fibers against Go" table): the thread executor against a baseline
    run, and the fibers' costs."""
    out = []
    measured, v = thread_regressions(run, baseline)
    out.append(("Thread executor: no regression", measured, v))
    worst = {}
    for scen in NO_ALLOC_SCENARIOS:
        for r in fibers(run, scen):
            m, lo, hi = r.stat("alloc_bytes_per_op")
            if not math.isnan(m):
                worst[r.series] = max(worst.get(r.series, 0), m if math.isnan(hi) else hi)
    if worst:
        most = max(worst.values())
        out.append(("0 bytes allocated per send, receive and select on fibers",
                    ", ".join(f"{k}: at most {v:.3g} B/op" for k, v in sorted(worst.items())),
                    "met" if most == 0 else f"missed (worst {most:.3g} B/op)"))
    idle = fibers(run, "idle")
    if idle:
        verdicts = [stats.threshold_verdict(*r.stat("idle_cpu_pct")[1:], IDLE_CPU_PCT, False)
                    for r in idle]
        v = "met" if all(x == "met" for x in verdicts) else \
            "missed" if "missed" in verdicts else "inconclusive"
        out.append((f"An idle fiber runtime at ~0% CPU (at most {IDLE_CPU_PCT:g}% of a CPU)",
                    ", ".join(f"{r.series} {r.fmt('idle_cpu_pct')}" for r in idle), v))
    return [t for t in out if t]


def executor_headlines(run):
    """Sentences about threads vs fibers vs Go on the configurations
    chanlab's fibers ran, with verdicts; and a peer on its own fibers
    (Boost.Fiber) where it ran too."""
    out = []
    items = [(s.label, s.rows(run)) for s in GO_SHAPES[:2]]
    items += [(label, run.select(scen, place=FREE, **params)) for label, scen, params in (
        ("SPSC cap 128", "spsc", dict(cap=128)),
        ("MPMC 2x2 cap 128", "mpmc", dict(cap=128, p=2, c=2)),
        ("Select over 4, cap 0", "select_recv", dict(k=4, cap=0)))]
    items += [(s.label, s.rows(run)) for s in GO_SHAPES[2:]]
    for label, rows in items:
        ours = run.of_kind(rows, CHANLAB)
        fib = [r for r in ours if on_fibers(r)]
        thr = [r for r in ours if r.exec == "thread" or r.impl == "thread"]
        go = [r for r in rows if r.impl == "go"]
        own = [r for r in run.of_kind(rows, PEER) if on_fibers(r)]
        if not fib:
            continue
        best_f = ranking(fib)[1]
        s = f"{label}: fibers best {best_f.series} {best_f.fmt()}"
        floor = next((r for r in rows if r.scenario == "switch" and r.impl == "floor"), None)
        if floor:  # bench/scenarios/runtime.c: the switch without a scheduler
            s += (f" (the bare jump_fcontext round trip, no scheduler: {floor.fmt()}; the "
                  "runtime adds the rest)")
        if thr:
            best_t = ranking(thr)[1]
            c = speedup(best_f, best_t)
            s += (f"; threads best {best_t.series} {best_t.fmt()} (fibers "
                  f"{fmt_ratio(c)} its speed, {'~' if verdict(c) == '~' else 'significant'})")
        if go:
            c = speedup(best_f, go[0])
            s += (f"; Go {go[0].fmt()} (fibers {fmt_ratio(c)} Go's speed, "
                  f"{'~' if verdict(c) == '~' else 'significant'})")
        if own:
            best_o = ranking(own)[1]
            c = speedup(best_f, best_o)
            s += (f"; on its own fibers {best_o.series} {best_o.fmt()} (chanlab's fibers "
                  f"{fmt_ratio(c)} its speed, {'~' if verdict(c) == '~' else 'significant'})")
        out.append(s + ".")
    return out


def headlines(run):
    """Plain sentences about the headline configurations, with verdicts."""
    out = []
    items = [("Unbuffered SPSC", "spsc", dict(cap=0)),
             ("SPSC cap 128", "spsc", dict(cap=128)),
             ("SPSC cap 1024", "spsc", dict(cap=1024)),
             ("MPSC 4x1 cap 128", "mpsc", dict(cap=128, p=4, c=1)),
             ("MPMC 2x2 cap 128", "mpmc", dict(cap=128, p=2, c=2)),
             ("Select over 4, cap 128", "select_recv", dict(k=4, cap=128))]
    cross = run.cross_place()
    if cross:
        items.insert(0, (f"Ping-pong ({cross}; Go unpinned)", "pingpong", {}))
    for label, scen, params in items:
        place = cross if scen == "pingpong" else "unpinned"
        rows = [r for r in run.select(scen, place=place, **params) if run.kind(r.impl) != FLOOR]
        if scen == "pingpong":
            rows += run.select("pingpong", "go")
        if len(rows) < 2:
            continue
        rows, best, tied = ranking(rows)
        s = f"{label}: {verdict_text(best, tied)} {best.fmt()}"
        if tied:
            s += " (no significant difference among the first " + str(len(tied) + 1) + ")"
        else:
            runner = rows[1]
            s += f", {fmt_ratio(speedup(best, runner))} {runner.series}'s speed"
        out.append(s + ".")
    idle = [r for r in run.select("idle")]
    if idle:
        out.append("A parked receiver uses " + ", ".join(
            f"{r.series} {r.fmt()}" for r in idle) + " of a CPU after its spin phase.")
    return out


# ---- the peers ------------------------------------------------------------------

def best_series(rows):
    """The best row of rows by the metric, or None."""
    rows = [r for r in rows if not r.error]
    return max(rows, key=lambda r: r.value if r.higher_is_better else -r.value) if rows else None


def goal_verdict(c):
    """A ">=" goal from a speedup() result: met (significantly better),
    missed (significantly worse) or no difference."""
    v = {"a": "met", "b": "missed"}.get(verdict(c), "no difference")
    if v == "no difference" and not c["testable"]:
        v += " (too few samples for a test)"
    return v


def peer_comparisons(run):
    """[(scenario, place, params, chanlab's best, best peer, speedup)] for
    every configuration chanlab and a peer both ran (floors left out)."""
    out = []
    for (scen, place, params), rows in sorted(run.groups().items()):
        ours, peer = best_series(run.of_kind(rows, CHANLAB)), best_series(run.of_kind(rows, PEER))
        if ours and peer:
            out.append((scen, place, params, ours, peer, speedup(ours, peer)))
    return out


# The scenarios that move messages through a queue (the peers goals'
# "buffered scenarios" at a capacity above 0).
MESSAGE_SCENARIOS = ("spsc", "mpsc", "spmc", "mpmc", "payload", "select_recv", "select_both",
                     "select_many")


def goal_rows(run):
    """The goals against the peers, one line per configuration: (goal, configuration,
    chanlab's row, the peer's row, speedup)."""
    out = []
    for scen, place, params, _, peer, _ in peer_comparisons(run):
        if scen in MESSAGE_SCENARIOS and dict(params).get("cap", 0) > 0:
            rings = [r for r in run.select(scen, place=place, **dict(params)) if r.impl == "ring"]
            ring = best_series(rings)
            if ring:
                out.append(("ring >= the best peer (buffered)", (scen, place, params), ring, peer,
                            speedup(ring, peer)))
    for scen, label in (("spsc", "futex >= crossbeam, unbuffered SPSC"),
                        ("pingpong", "futex >= crossbeam, ping-pong")):
        for cb in run.select(scen, "crossbeam", **({"cap": 0} if scen == "spsc" else {})):
            futex = best_series(run.select(scen, "futex", place=cb.place, **cb.params))
            if futex:
                out.append((label, (scen, cb.place, tuple(sorted(cb.params.items()))), futex, cb,
                            speedup(futex, cb)))
    for cb in run.select("select_recv", "crossbeam", k=4):
        rows = run.of_kind(run.select("select_recv", place=cb.place, **cb.params), CHANLAB)
        ours = best_series(rows)
        if ours:
            out.append(("select over 4 >= crossbeam",
                        ("select_recv", cb.place, tuple(sorted(cb.params.items()))), ours, cb,
                        speedup(ours, cb)))
    return out


def desc(params):
    return " ".join(f"{k}={v}" for k, v in params) or "-"


# The configurations of the peers table: (column, scenario, parameters).
PEERS_TABLE = [("ping-pong", "pingpong", {}),
               ("SPSC cap 0", "spsc", {"cap": 0}),
               ("SPSC cap 128", "spsc", {"cap": 128}),
               ("SPSC cap 1024", "spsc", {"cap": 1024}),
               ("MPSC 4x1 cap 128", "mpsc", {"cap": 128, "p": 4, "c": 1}),
               ("MPMC 2x2 cap 128", "mpmc", {"cap": 128, "p": 2, "c": 2}),
               ("select over 4, cap 128", "select_recv", {"k": 4, "cap": 128})]


def peers_table(run):
    """Every series (chanlab's, the peers', the floors') on the headline
    configurations, unpinned (where every program runs): median [95%
    interval], the best in bold and the ones a test cannot separate from it
    marked ~."""
    cols = [(label, scen, params) for label, scen, params in PEERS_TABLE
            if run.select(scen, place="unpinned", **params)]
    if not cols:
        return []
    L = ["| implementation | kind | " + " | ".join(c[0] for c in cols) + " |",
         "|---|---|" + "---|" * len(cols)]
    leaders = {}
    for label, scen, params in cols:
        rows = [r for r in run.select(scen, place="unpinned", **params)
                if run.kind(r.impl) != FLOOR]
        if rows:
            _, top, tied = ranking(rows)
            leaders[label] = (top.series, {r.series for r in tied})
    for series in run.series():
        kind = run.kind(series.split()[0])
        cells = []
        for label, scen, params in cols:
            r = next(iter(run.select(scen, place="unpinned", series=series, **params)), None)
            if not r:
                cells.append("-")
                continue
            top, tied = leaders.get(label, (None, set()))
            cell = r.fmt()
            cells.append(f"**{cell}**" if series == top else f"~ {cell}" if series in tied
                         else cell)
        if any(c != "-" for c in cells):
            L.append(f"| {series} | {kind} | " + " | ".join(cells) + " |")
    return L


def peers_section(run, folder):
    L = [f"## Against the peers{on_machine(run)}", ""]
    peers = [s for s in run.series() if run.kind(s.split()[0]) == PEER]
    floors = [s for s in run.series() if run.kind(s.split()[0]) == FLOOR]
    if not peers:
        L.append("No peer ran in this run.")
    else:
        L.append("The peers in this run (same scenarios, repetitions and intervals as "
                 "chanlab's rows; Go runs unpinned only):")
        L.append("")
        for s in peers:
            impl = s.split()[0]
            what = run.library(impl)
            if " exec:fiber" in s and run.context.get(f"fibers.{impl}"):
                what = f"on its own fibers: {run.context[f'fibers.{impl}']}"
            L.append(f"- `{s}`: {what or '-'}")
    if floors:
        L += ["", "Floors (yardsticks without a channel's semantics, not ranked among the "
              "peers): " + "; ".join(f"`{s}`: {run.context.get('floor.' + s.split()[0], '')}"
                                    for s in floors) + "."]
    skipped = run.skipped_peers()
    if skipped:
        L += ["", "Not in this run: " + "; ".join(f"`{n}`: {why}" for n, why in skipped) + "."]
    absent = [(impl, run.absent(impl)) for impl in run.impls() if run.kind(impl) != CHANLAB]
    absent = [(impl, a) for impl, a in absent if a]
    if absent:
        L += ["", "<details><summary>Where a peer has no row, and why (chanbench's "
              "<code>absent.*</code> context)</summary>", "",
              "\"lacks chanlab channel\": the scenario calls chanlab's own API on the queue "
              "(chan_select, timeouts, chan_debug_waiters, the patterns); of the C/C++ peers "
              "none has a select. The Rust peers run select_recv with their own select.", ""]
        for impl, a in absent:
            by_reason = {}
            for scen, why in sorted(a.items()):
                for reason in why.split("; "):
                    by_reason.setdefault(reason, []).append(scen)
            L.append(f"- `{impl}`: " + "; ".join(f"{why} ({', '.join(scens)})"
                                                 for why, scens in by_reason.items()))
        L += ["", "</details>"]
    goals = goal_rows(run)
    if goals:
        L += ["", "### Goals", "",
              "Speed ratios (>1: chanlab faster; latency inverted), with the interval of the "
              "ratio; met = chanlab significantly faster, missed = significantly slower, "
              "no difference = a Mann-Whitney U test cannot separate them (p >= 0.05).", ""]
        summary = {}
        for goal, _, _, _, c in goals:
            v = goal_verdict(c).split(" (")[0]
            summary.setdefault(goal, {}).setdefault(v, 0)
            summary[goal][v] += 1
        for goal, counts in summary.items():
            L.append(f"- {goal}: " + ", ".join(f"{k} in {n}" for k, n in sorted(counts.items()))
                     + f" of {sum(counts.values())} configuration(s).")
        L += ["", "| goal | configuration | chanlab | peer | ratio | verdict |",
              "|---|---|---|---|---|---|"]
        for goal, (scen, place, params), ours, peer, c in goals:
            L.append(f"| {goal} | {scen} {desc(params)} ({place}) | {ours.series} {ours.fmt()} | "
                     f"{peer.series} {peer.fmt()} | {fmt_ratio(c)} | {goal_verdict(c)} |")
    table = peers_table(run)
    if table:
        L += ["", "### The peers table (unpinned)", "",
              "Medians with 95% intervals; rates in messages per second, ping-pong the median "
              "round trip. **Bold**: the best; `~`: not separable from it by a test.", ""] + table
    comps = peer_comparisons(run)
    if comps:
        L += ["", "### chanlab's best against the best peer, per configuration", "",
              "| scenario | placement | parameters | chanlab's best | best peer | ratio | verdict |",
              "|---|---|---|---|---|---|---|"]
        for scen, place, params, ours, peer, c in comps:
            v = {"a": "chanlab faster", "b": "peer faster"}.get(verdict(c), "~")
            L.append(f"| {scen} | {place} | {desc(params)} | {ours.series} {ours.fmt()} | "
                     f"{peer.series} {peer.fmt()} | {fmt_ratio(c)} | {v} |")
    for png, title in PEER_PLOTS:
        if os.path.exists(os.path.join(folder, png)):
            L += ["", f"![{title}]({png})"]
    return L


# ---- your implementation against the field ---------------------------------------

def loaded_comparisons(run, impl):
    """[(scenario, place, params, its row, chanlab's best or None, the best
    peer or None)]: every configuration a loaded implementation ran, its
    best series there against chanlab's best and the best peer's (Go among
    the peers; floors left out)."""
    out = []
    for (scen, place, params), rows in sorted(run.groups().items()):
        mine = best_series([r for r in rows if r.impl == impl])
        if mine:
            out.append((scen, place, params, mine, best_series(run.of_kind(rows, CHANLAB)),
                        best_series(run.of_kind(rows, PEER))))
    return out


def against(mine, other):
    """(ratio text, verdict) of a loaded row against another, or ("-", "-")."""
    if other is None:
        return "-", "-"
    c = speedup(mine, other)
    v = {"a": f"{mine.impl} faster", "b": f"{other.series} faster"}.get(verdict(c),
                                                                      "no difference")
    return fmt_ratio(c), v if c["testable"] else v + " (too few samples for a test)"


def yours_section(run):
    """Each loaded implementation (--impl-lib) against chanlab's best and the
    best peer, configuration by configuration, with a count of verdicts."""
    mine = [i for i in run.impls() if run.kind(i) == LOADED]
    if not mine:
        return []
    L = [f"## Your implementation against the field{on_machine(run)}", "",
         "Implementations loaded with `--impl-lib` (chan/impl.h), measured through chanlab's "
         "API in the same run as chanlab's own, the peers and Go. Per configuration: the "
         "loaded one's best series against chanlab's best and against the best peer; speed "
         "ratios (>1: the loaded one is faster; latency inverted) with their 95% interval; a "
         "verdict names the faster only when a Mann-Whitney U test separates them "
         "(p < 0.05).", ""]
    libs = run.env.get("impl_lib")
    if libs:
        L += [f"Loaded from: `{libs}`.", ""]
    for impl in mine:
        comps = loaded_comparisons(run, impl)
        summary = run.context.get(f"impl.{impl}")
        L.append(f"### `{impl}`" + (f": {summary}" if summary else ""))
        L.append("")
        for label, others in (("chanlab's best", [c[4] for c in comps]),
                              ("the best peer", [c[5] for c in comps])):
            counts = {}
            for (_, _, _, row, _, _), other in zip(comps, others):
                if other is not None:
                    key = {"a": "faster", "b": "slower"}.get(verdict(speedup(row, other)),
                                                             "no difference")
                    counts[key] = counts.get(key, 0) + 1
            n = sum(counts.values())
            if n:
                L.append(f"- Against {label}: " + ", ".join(
                    f"{k} in {counts[k]}" for k in ("faster", "no difference", "slower")
                    if k in counts) + f" of {n} configuration(s).")
        L += ["", "| scenario | placement | parameters | " + impl + " | chanlab's best | ratio | "
              "verdict | best peer | ratio | verdict |", "|---|---|---|---|---|---|---|---|---|---|"]
        for scen, place, params, row, ours, peer in comps:
            r1, v1 = against(row, ours)
            r2, v2 = against(row, peer)
            L.append(f"| {scen} | {place} | {desc(params)} | {row.series} {row.fmt()} | "
                     + (f"{ours.series} {ours.fmt()}" if ours else "-") + f" | {r1} | {v1} | "
                     + (f"{peer.series} {peer.fmt()}" if peer else "-") + f" | {r2} | {v2} |")
        L.append("")
    return L


# ---- what to pick -----------------------------------------------------------------

# The scenario families of "What to pick on this machine": a label and the
# scenarios (names or globs) whose configurations it takes.
PICK_FAMILIES = [
    ("Round trip (ping-pong)", ("pingpong",)),
    ("One producer, one consumer (SPSC, payload sizes)", ("spsc", "payload")),
    ("Several producers or consumers (MPSC, SPMC, MPMC)", ("mpsc", "spmc", "mpmc")),
    ("Select", ("select_*",)),
    ("Go's concurrency patterns", ("pattern_*",)),
    ("Goroutines themselves (spawn, switch)", ("spawn", "switch")),
]


def pick(run, scenarios):
    """(the fastest series, {series: configurations it leads or ties},
    configurations, [series not separable from the fastest]) over the
    unpinned configurations (threads, fibers, Go and the peers together) of
    the given scenarios, or None. The fastest leads (or cannot be separated
    from the leader of) the most configurations; a series is not separable
    from it when no configuration they both ran shows the fastest
    significantly faster."""
    import fnmatch
    configs = []
    for (scen, place, _), rows in sorted(run.groups().items()):
        if place != "unpinned" or not any(fnmatch.fnmatch(scen, g) for g in scenarios):
            continue
        rows = [r for r in rows if run.kind(r.impl) != FLOOR]
        if len(rows) >= 2:
            configs.append({r.series: r for r in rows})
    if not configs:
        return None
    leads, order = {}, {}
    for rows in configs:
        ranked, best, tied = ranking(list(rows.values()))
        for r in [best] + tied:
            leads[r.series] = leads.get(r.series, 0) + 1
        for i, r in enumerate(ranked):
            order.setdefault(r.series, i)
    top = max(leads, key=lambda s: (leads[s], -order[s]))
    close = []
    for series in sorted({s for rows in configs for s in rows} - {top}):
        shared = [rows for rows in configs if top in rows and series in rows]
        if shared and all(verdict(speedup(rows[top], rows[series])) != "a" for rows in shared):
            close.append(series)
    return top, leads, len(configs), close


def what_to_pick(run):
    name = machine_name(run)
    L = ["## What to pick on this machine" + (f" ({name})" if name else ""), "",
         "Per scenario family, over its unpinned configurations (threads, fibers, Go and the "
         "peers together; floors left out): the fastest is the one that leads, or cannot be "
         "separated from the leader (Mann-Whitney U, p < 0.05), in the most configurations; "
         "next to it, the ones no configuration separates from it. The rest of the page has "
         "the figures.", "",
         "| scenario family | fastest | leads or ties | not separable from it |",
         "|---|---|---|---|"]
    for label, scenarios in PICK_FAMILIES:
        p = pick(run, scenarios)
        if p:
            top, leads, n, close = p
            L.append(f"| {label} | **{top}** | {leads[top]} of {n} configuration(s) | "
                     + (", ".join(close) or "none") + " |")
    return L if len(L) > 6 else []


# ---- fibers against Go -----------------------------------------------------------

def best_on(run, rows, executor):
    """chanlab's best row among rows on an executor ("thread" or "fiber"),
    or None."""
    ours = [r for r in run.of_kind(rows, CHANLAB)
            if (on_fibers(r) if executor == "fiber" else not on_fibers(r))]
    return ranking(ours)[1] if ours else None


def go_row(rows):
    return next((r for r in rows if r.impl == "go"), None)


def fibers_vs_go(run):
    """A line per shape of GO_SHAPES: chanlab's best on fibers, Go, the
    speed ratio with its interval, and the target "fibers at least as fast
    as Go": met when the whole interval is at or above 1.0x."""
    L = [f"## Fibers against Go{on_machine(run)}", "",
         "Each shape on chanlab's fibers (its best implementation there) and in Go's runtime, "
         "in the same run. The ratio is the fibers' speed over Go's (>1: fibers faster), with "
         "its 95% interval; the target, fibers at least as fast as Go, is met when the whole "
         "interval is at or above 1.0x, missed when it is all below, otherwise inconclusive.",
         "", "| shape | fibers | Go | fibers vs Go | target |", "|---|---|---|---|---|"]
    for shape in GO_SHAPES:
        rows = shape.rows(run)
        fib, go = best_on(run, rows, "fiber"), go_row(rows)
        if not fib and not go:
            L.append(f"| {shape.label} | not in this run | | | |")
            continue
        cells = [f"{fib.series} {fib.fmt()}" if fib else "-", go.fmt() if go else "-"]
        if fib and go:
            c = speedup(fib, go)
            v = stats.threshold_verdict(c["lo"], c["hi"], 1.0, True)
            cells += [fmt_ratio(c), v]
        else:
            cells += ["-", "inconclusive (a side is missing)"]
        L.append(f"| {shape.label} | " + " | ".join(cells) + " |")
    return L


def under_load(run, loaded):
    """Each shape's slowdown under a background load, on threads, fibers
    and Go, and how the fibers' compares with Go's."""
    hogs = loaded.context.get("background_load", loaded.env.get("background_load", "?"))
    pus = loaded.context.get("background_load.pus")
    # The loaded pass's folder as seen from the run's page (loaded/ when
    # run.sh --loaded wrote it), so a committed page names no local path.
    where = os.path.relpath(loaded.folder, run.folder)
    L = [f"## Under load: threads, fibers and Go{on_machine(run)}", "",
         f"The same rows run again from `{where}` with {hogs} spinning hog process(es)"
         + (f" pinned to PU {pus}" if pus else "")
         + " (chanbench's and gochan's `--background-load`). Slowdown: the quiet speed over "
           "the loaded one (>1: slower under load), with its 95% interval; thread and fiber "
           "rows are chanlab's best on that executor in the quiet run. Fibers vs Go: the "
           "fibers' slowdown over Go's (>1: fibers suffer more), with a 95% bootstrap "
           "interval; the verdict names a difference only when that interval excludes 1.", "",
         "| shape | threads | fibers | Go | fibers' slowdown / Go's | verdict |",
         "|---|---|---|---|---|---|"]
    by_name = {r.name: r for r in loaded.rows if not r.error}
    shown = 0
    for shape in GO_SHAPES:
        rows = shape.rows(run)
        pairs = {}
        for what, r in (("threads", best_on(run, rows, "thread")),
                        ("fibers", best_on(run, rows, "fiber")), ("Go", go_row(rows))):
            if r and r.name in by_name:
                pairs[what] = (r, by_name[r.name])
        if not pairs:
            continue
        shown += 1
        cells = []
        for what in ("threads", "fibers", "Go"):
            if what in pairs:
                q, l = pairs[what]
                series = f"{q.series} " if what != "Go" else ""
                cells.append(f"{series}{fmt_ratio(slowdown(q, l))}")
            else:
                cells.append("-")
        if "fibers" in pairs and "Go" in pairs:
            c = slowdown_ratio(*pairs["fibers"], *pairs["Go"])
            v = ("fibers suffer more" if c["lo"] > 1 else "fibers suffer less" if c["hi"] < 1
                 else "~" if not math.isnan(c["lo"]) else "inconclusive (too few samples)")
            cells += [fmt_ratio(c), v]
        else:
            cells += ["-", "-"]
        L.append(f"| {shape.label} | " + " | ".join(cells) + " |")
    if not shown:
        L.append(f"| (no row of this run is in {where}) | | | | | |")
    return L


def cost_table(run, bad):
    L = [f"## Cost{on_machine(run)}", "",
         "Medians with 95% intervals. CPU per message from each role thread's "
         "CLOCK_THREAD_CPUTIME_ID, summed over the threads; on fibers (exec:fiber: "
         "chanlab's runtime, or a peer's own scheduler, measured alike) the process's CPU "
         "clock over the round minus the benchmark thread's (a fiber moves between "
         "workers, so no thread clock follows it: this is every worker's CPU, idle "
         "spinning included); Go: the process's CPU clock. Allocations on fibers: the "
         "counters of every worker thread, summed. The idle column is the waiting "
         "thread's CPU, or on fibers the whole runtime's.", "",
         "| implementation | SPSC cap 128 CPU ns/msg | vcsw/msg | alloc B/op | allocs/op | "
         "idle waiter CPU % | make+destroy (cap 128) |", "|---|---|---|---|---|---|---|"]
    for series in run.series():
        s = [r for r in run.select("spsc", cap=128, series=series)
             if r.place in FREE + ("none",)]
        s = s[0] if s else None
        idle = [r for r in run.select("idle", series=series)]
        life = [r for r in run.select("lifecycle", cap=128, series=series)]

        def cell(r, key):
            if not r or math.isnan(r.stat(key)[0]):
                return "-"
            return r.fmt(key) + (" (impossible)" if (r.name, key) in bad else "")
        cells = [cell(s, 'cpu_ns_per_msg'), cell(s, 'vcsw_per_msg'),
                 cell(s, 'alloc_bytes_per_op'), cell(s, 'allocs_per_op'),
                 cell(idle[0] if idle else None, 'idle_cpu_pct'),
                 life[0].fmt() if life else '-']
        if any(c != "-" for c in cells):  # series without these scenarios: no row
            L.append(f"| {series} | " + " | ".join(cells) + " |")
    return L


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", help="a results/<run> folder")
    ap.add_argument("--baseline", help="an earlier results folder: the thread executor's "
                    "rows are checked against it (no regression)")
    ap.add_argument("--loaded", help="the same rows run under a background load (default: "
                    "the folder's loaded/, which scripts/run.sh --loaded writes, if there is one)")
    args = ap.parse_args()
    try:
        if not os.path.isdir(args.folder):
            raise ResultsError(f"{args.folder}: not a results folder" if os.path.exists(args.folder)
                               else f"{args.folder}: no such file or directory")
        run = Run(args.folder)
        baseline = Run(args.baseline) if args.baseline is not None else None
        loaded = args.loaded
        if loaded is None and os.path.isdir(os.path.join(args.folder, "loaded")):
            loaded = os.path.join(args.folder, "loaded")
        if loaded is not None and not os.path.isdir(loaded):
            raise ResultsError(f"--loaded: {loaded}: not a results folder")
        loaded = Run(loaded) if loaded is not None else None
    except ResultsError as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1
    name = os.path.basename(os.path.normpath(args.folder))
    files = ", ".join(f"`{os.path.basename(p)}`" for p, _ in run.files)
    L = [f"# chanlab benchmark run `{name}`{on_machine(run)}", "",
         f"Written by `scripts/report.py` from {files}. Every figure is the median of a "
         "benchmark's repetitions with its 95% interval in brackets (order statistics, as "
         "benchstat gives). Two figures count as different only when a Mann-Whitney U test "
         "separates them at p < 0.05; otherwise the verdict is `~`. Ratios are speed ratios "
         "(>1: faster) unless they say latency. Targets are met or missed only when the "
         "whole interval of the ratio is on one side of the bound; otherwise inconclusive.", ""]
    noisy_floors, bad = impossible(run)
    run.rows = [r for r in run.rows if (r.name, "figure") not in bad]
    picks = what_to_pick(run)
    if picks:
        L += picks + [""]
    yours = yours_section(run)
    if yours:
        L += yours
    L += machine(run)
    L += [""] + quality(run, noisy_floors, bad)
    errs = run.errors()
    if errs:
        L += ["", "## Benchmarks that reported an error", ""]
        L += [f"- `{r.name}`: {r.error}" for r in errs]
    L += ["", f"## What this run shows{on_machine(run)}", ""] + [f"- {x}" for x in headlines(run)]
    execs = executor_headlines(run)
    if execs:
        L += ["", "### Threads, fibers and Go", "",
              "The same configurations on OS threads (unpinned), on fibers of chanlab's "
              "runtime (`exec:fiber`, `place:runtime`) and in Go, and where it ran, a peer "
              "on its own fiber scheduler (Boost.Fiber, also `exec:fiber`, `place:runtime`); "
              "speed ratios (>1: chanlab's fibers are faster).", ""] + [f"- {x}" for x in execs]
    L += [""] + fibers_vs_go(run)
    if loaded is not None:
        L += [""] + under_load(run, loaded)
    L += ["", f"## Targets{on_machine(run)}", "",
          "The channels on threads against this run's hardware floors, Go and crossbeam; "
          "then the fiber runtime's targets besides its speed against Go (above).", "",
          "| target | measured | verdict |", "|---|---|---|"]
    L += [f"| {t} | {m} | {v} |" for t, m, v in targets(run, noisy_floors)]
    L += [f"| {t} | {m} | {v} |" for t, m, v in fiber_targets(run, baseline)]
    L += [""] + peers_section(run, args.folder)
    L += [""] + cost_table(run, bad)
    L += ["", f"## Plots{on_machine(run)}", "",
          "Bars and points are medians; whiskers and bands are the 95% intervals.", ""]
    for png, title in PLOTS:
        if os.path.exists(os.path.join(args.folder, png)):
            L += [f"### {title}", "", f"![{title}]({png})", ""]
    L += [f"## Winners per configuration{on_machine(run)}", "",
          "Best first; the verdict names the winner when a test separates it from every "
          "other, else `~` and the implementations it cannot be separated from. Go and the "
          "peers run unpinned.", "",
          "<details><summary>every configuration</summary>", "",
          "| scenario | placement | parameters | verdict | ranking (median [95% interval]) |",
          "|---|---|---|---|---|"]
    L += winners(run)
    L += ["", "</details>", "", "## Files", ""]
    L += [f"- `{os.path.basename(p)}`: {len(d['benchmarks'])} entries" for p, d in run.files]
    L += ["- `env.txt`, `topology.xml`: the machine; `*.log`: console output",
          "- compare two runs: `/usr/bin/python3 scripts/compare.py results/A results/B`", ""]
    with open(os.path.join(args.folder, "README.md"), "w") as f:
        f.write("\n".join(L))
    print(f"report: {os.path.join(args.folder, 'README.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
