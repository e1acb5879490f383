"""chanlab_results - load and index chanlab benchmark results.

A results folder holds one JSON file per program in Google Benchmark's
schema: chanbench.json, go.json, and the peers' (peers-rust.json, ...):
every *.json in the folder with a "benchmarks" list is read. Each benchmark
name "<scenario>/impl:<queue>/place:<place>/<key>:<value>/..." becomes a row
with its parameters and one sample per repetition; the scenario list (with
each scenario's group and metric) comes from chanbench's JSON context,
written from bench/scenarios.def. plot.py, report.py, compare.py and
rerun_check.py share this one reading. Errors are raised as ResultsError
with a message meant for the user.

Name parts: numeric values are configuration (cap:128, p:2); other values
besides impl and place (exec:fiber, stacks:unguarded, ...) identify the
thing measured together with the implementation, so a row's series is
"ring" or "ring exec:fiber" and configurations compare series against each
other. exec:thread, the executor every scenario has, is not part of the
series: a thread row of ping-pong and one of the payload sweep (a scenario
without the executor axis) are both "ring".

Placement: rows placed by the OS (place:unpinned: threads, Go, the peers)
or by a fiber runtime (place:runtime: exec:fiber rows, whose runtime pins
its workers itself) compete in the same groups (FREE), so a configuration
ranks threads, fibers and Go together.

Kinds of implementation (Run.kind): chanlab's own (the queue rows whose
library chanbench's context gives as "chanlab", or impls/registry.def for
results without that context), loaded ones (a user's implementation of
chan/impl.h, loaded with --impl-lib: library "chanlab (loaded)", measured
through chanlab's API like chanlab's own but not chanlab's to rank among
its own), floors (yardsticks rather than choices: rows chanbench marks
floor.<name>, such as ck_ring, and the floor scenarios) and peers
(everything else: the C/C++ peers in chanbench.json, Boost.Fiber on its own
scheduler among them, Go, the Rust peers).
"""
import glob
import json
import math
import os
import re
import statistics

import chanlab_stats as stats

TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
GB_SUFFIXES = ("manual_time", "real_time", "process_time")

# Which way is better, and the unit, for each metric of scenarios.def.
METRICS = {
    "rate": {"key": "items_per_second", "higher": True, "unit": "msgs/s"},
    "latency": {"key": "p50_ns", "higher": False, "unit": "ns"},
    "time": {"key": "time_ns", "higher": False, "unit": "ns"},
    "idle_cpu": {"key": "idle_cpu_pct", "higher": False, "unit": "% CPU"},
}

# A repetition is noisy when other processes took this share of the
# machine's CPU capacity while it ran, or the hypervisor stole this much
# (/proc/stat, measured by chanbench and gochan around each repetition).
NOISE_OTHER_PCT = 20.0
NOISE_STEAL_PCT = 5.0
# A row's spread is high when its interval is wider than this share of its
# median on either side.
SPREAD = 0.25
PLACES = ["same_pu", "smt", "shared_l2", "shared_l3", "diff_l3", "diff_numa",
          "diff_package", "unpinned", "runtime"]
# Placed by the OS or by a fiber runtime: one group (see the module's text).
FREE = ("unpinned", "runtime")

# bench/scenarios.def, for results whose JSON does not carry the list.
SCENARIOS_DEF = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "bench", "scenarios.def")
# impls/registry.def, chanlab's implementations, for results whose JSON does
# not say which queues are chanlab's.
REGISTRY_DEF = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "impls", "registry.def")
# Scenarios that older results have and scenarios.def no longer lists.
RETIRED = {"floor_ring": {"group": "floor", "metric": "rate",
                          "summary": "a hand-written raw SPSC ring (since replaced by "
                                     "Concurrency Kit's ck_spsc, a floor row of spsc)"}}

CHANLAB, LOADED, PEER, FLOOR = "chanlab", "loaded", "peer", "floor"
# chanbench's library for an implementation loaded with --impl-lib.
LOADED_LIBRARY = "chanlab (loaded)"


class ResultsError(Exception):
    pass


def read_json(path):
    """Any JSON document, or a ResultsError saying what is wrong."""
    if not os.path.exists(path):
        raise ResultsError(f"{path}: no such file")
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: malformed JSON ({e})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: cannot read ({e})") from None


def is_results(doc):
    return isinstance(doc, dict) and isinstance(doc.get("benchmarks"), list)


def load_json(path):
    """A results file: Google Benchmark's JSON schema."""
    doc = read_json(path)
    if not is_results(doc):
        raise ResultsError(f"{path}: not Google Benchmark JSON (no 'benchmarks' list)")
    return doc


def scenarios_of(doc):
    """{name: {"group", "metric", "summary"}} from a chanbench JSON context
    (chanlab.scenarios and scenario.<name>), or {} without the list."""
    ctx = doc.get("context") if isinstance(doc.get("context"), dict) else {}
    out = {}
    for name in filter(None, str(ctx.get("chanlab.scenarios", "")).split(",")):
        m = re.match(r"(\w+) (\w+): (.*)", str(ctx.get(f"scenario.{name}", "")))
        if m:
            out[name] = {"group": m[1], "metric": m[2], "summary": m[3]}
    return out


def scenarios_from_source():
    """The same from bench/scenarios.def itself (results from before the
    list was written into the JSON)."""
    out = {}
    try:
        with open(SCENARIOS_DEF) as f:
            for m in re.finditer(r'^SCENARIO\((\w+), (\w+), (\w+), "(.*)"\)$', f.read(), re.M):
                out[m[1]] = {"group": m[2].lower(), "metric": m[3].lower(), "summary": m[4]}
    except OSError:
        pass
    return dict(RETIRED, **out)


def registry_from_source():
    """chanlab's implementation names from impls/registry.def."""
    try:
        with open(REGISTRY_DEF) as f:
            return re.findall(r"^CHAN_IMPL\((\w+)\)", f.read(), re.M)
    except OSError:
        return []


def parse_name(name):
    """'spsc/impl:futex/place:unpinned/cap:128/p:1/c:1/manual_time' ->
    ('spsc', {'impl': 'futex', 'place': 'unpinned', 'cap': 128, ...})."""
    parts = name.split("/")
    scenario, params = parts[0], {}
    for seg in parts[1:]:
        if seg in GB_SUFFIXES:
            continue
        if ":" not in seg:
            raise ResultsError(f"benchmark name '{name}': segment '{seg}' is not key:value")
        key, value = seg.split(":", 1)
        try:
            params[key] = int(value)
        except ValueError:
            params[key] = value
    return scenario, params


def fmt_si(v, unit=""):
    if v is None or math.isnan(v):
        return "-"
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"{v / scale:.3g} {prefix}{unit}".rstrip()
    return f"{v:.3g} {unit}".rstrip()


def fmt_ns(ns):
    if ns is None or math.isnan(ns):
        return "-"
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} us"
    return f"{ns:.3g} ns"


class Row:
    """One benchmark: its parameters and its repetitions (samples)."""

    def __init__(self, name, scenario, params, meta, reps, source):
        self.name, self.scenario, self.source = name, scenario, source
        self.meta = meta
        self.impl = params.pop("impl", "floor")
        self.place = params.pop("place", "none")
        # The executor of a scenario with the executor axis (exec:thread or
        # exec:fiber), else None.
        self.exec = params.get("exec")
        # Non-numeric parts identify the thing measured (exec:fiber, ...);
        # threads are what every scenario runs on (see the module's text).
        self.ident = {k: v for k, v in params.items() if isinstance(v, str)
                      and (k, v) != ("exec", "thread")}
        self.params = {k: v for k, v in params.items() if not isinstance(v, str)}
        self.series = self.impl + "".join(f" {k}:{v}" for k, v in sorted(self.ident.items()))
        self.reps = reps
        # chanbench marks a repetition the machine spoiled (counter
        # "dropped", label "dropped: why") or that failed (counter "failed",
        # label "error: why"), rather than Google Benchmark's error fields,
        # which its own statistics cannot survive; other programs use those.
        self.dropped = [r for r in reps if r.get("dropped")]
        errors = [r for r in reps if r.get("failed") or r.get("error_occurred")]
        self.error = (str(errors[0].get("error_message") or errors[0].get("label") or "error")
                      if errors else None)
        self.good = [r for r in reps if r not in self.dropped and r not in errors]
        if not self.good and self.dropped and not self.error:
            self.error = str(self.dropped[0].get("label", "every repetition dropped"))
        self._stats = {}

    # -- samples and figures --
    def samples(self, key=None):
        """Per-repetition values of a counter (default: the metric's)."""
        key = key or METRICS[self.meta["metric"]]["key"]
        out = []
        for r in self.good:
            unit = TO_NS.get(r.get("time_unit", "ns"), 1.0)
            if key == "time_ns":
                v = r.get("real_time")
                v = v * unit if isinstance(v, (int, float)) else None
            elif key == "p50_ns" and "p50_ns" not in r:
                v = r.get("real_time")  # no histogram: the mean round trip
                v = v * unit if isinstance(v, (int, float)) else None
            else:
                v = r.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(float(v))
        return out

    def stat(self, key=None):
        """(median, lo, hi) of a counter over the repetitions."""
        key = key or METRICS[self.meta["metric"]]["key"]
        if key not in self._stats:
            self._stats[key] = stats.median_ci(self.samples(key))
        return self._stats[key]

    @property
    def higher_is_better(self):
        return METRICS[self.meta["metric"]]["higher"]

    @property
    def value(self):
        return self.stat()[0]

    def fmt(self, key=None):
        """The figure with its interval: '21.8 M msgs/s [19.9, 23.1]'."""
        metric = self.meta["metric"]
        m, lo, hi = self.stat(key)
        key = key or METRICS[metric]["key"]
        if key.endswith("_pct"):
            def f(v):
                return "-" if v is None or math.isnan(v) else f"{v:.2f}%"
        elif key.endswith("_ns") or key == "time_ns":
            f = fmt_ns
        elif key == "items_per_second":
            def f(v):
                return fmt_si(v, "/s")
        else:
            def f(v):
                return "-" if v is None or math.isnan(v) else f"{v:.3g}"
        interval = f" [{f(lo)}, {f(hi)}]" if not math.isnan(lo) else " [too few samples]"
        return f"{f(m)}{interval}"

    # -- quality --
    def noisy_reps(self):
        return [r for r in self.good
                if r.get("noise_other_pct", 0) >= NOISE_OTHER_PCT
                or r.get("noise_steal_pct", 0) >= NOISE_STEAL_PCT]

    def noise(self):
        """(median other-process %, median steal %) over the repetitions."""
        other = [r["noise_other_pct"] for r in self.good if "noise_other_pct" in r]
        steal = [r["noise_steal_pct"] for r in self.good if "noise_steal_pct" in r]
        return (statistics.median(other) if other else math.nan,
                statistics.median(steal) if steal else math.nan)

    def flags(self):
        """Short warnings about this row's figure."""
        out = []
        if self.dropped:
            out.append(f"{len(self.dropped)} repetition(s) dropped (machine busy)")
        noisy = self.noisy_reps()
        if self.good and len(noisy) * 2 >= len(self.good):
            out.append(f"noisy: {len(noisy)}/{len(self.good)} repetitions shared the machine")
        m, lo, hi = self.stat()
        if math.isnan(lo):
            out.append(f"{len(self.good)} sample(s): no interval")
        elif m > 0 and (hi / m - 1 > SPREAD or 1 - lo / m > SPREAD):
            out.append("high spread")
        return out


def rows_from(doc, path, known):
    """One Row per benchmark (its repetitions grouped by run_name)."""
    groups = {}
    for b in doc["benchmarks"]:
        if not isinstance(b, dict) or not isinstance(b.get("name"), str):
            raise ResultsError(f"{path}: a benchmark entry has no name")
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates: recomputed here with intervals
        groups.setdefault(b.get("run_name", b["name"]), []).append(b)
    rows = []
    for name, reps in groups.items():
        scenario, params = parse_name(name)
        if scenario not in known:
            raise ResultsError(f"{path}: unknown scenario '{scenario}' in '{name}' "
                               f"(known: {', '.join(sorted(known))})")
        for r in reps:
            if r.get("time_unit", "ns") not in TO_NS:
                raise ResultsError(f"{path}: '{name}' has unknown time_unit '{r.get('time_unit')}'")
        rows.append(Row(name, scenario, params, known[scenario], reps, path))
    return rows


def result_files(folder):
    """The results files of a folder: every *.json with a 'benchmarks' list
    (chanbench.json first); a chanbench.json must be one."""
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        if os.path.basename(path) == "chanbench.json":
            out.append((path, load_json(path)))
            continue
        doc = read_json(path)
        if is_results(doc):
            out.append((path, doc))
    out.sort(key=lambda pd: os.path.basename(pd[0]) != "chanbench.json")
    return out


class Run:
    """A results folder (or one results JSON file)."""

    def __init__(self, folder, impls=None):
        if not os.path.exists(folder):
            raise ResultsError(f"{folder}: no such file or directory")
        if os.path.isdir(folder):
            self.folder = folder
            self.files = result_files(folder)
            if not self.files:
                raise ResultsError(f"{folder}: no results (no *.json with a 'benchmarks' list)")
        else:
            self.folder = os.path.dirname(folder) or "."
            self.files = [(folder, load_json(folder))]
        self.contexts = {os.path.basename(p): d.get("context", {}) if isinstance(d.get("context"), dict) else {}
                         for p, d in self.files}
        self.context = {}
        for ctx in self.contexts.values():
            for k, v in ctx.items():
                self.context.setdefault(k, v)
        self.scenarios = {}
        for _, doc in self.files:
            for k, v in scenarios_of(doc).items():
                self.scenarios.setdefault(k, v)
        if not self.scenarios:
            self.scenarios = scenarios_from_source()
        self.rows, seen = [], {}
        for path, doc in self.files:
            for row in rows_from(doc, path, self.scenarios):
                if row.name in seen:
                    raise ResultsError(f"'{row.name}' is in both {seen[row.name]} and {path}")
                seen[row.name] = path
                self.rows.append(row)
        if not self.rows:
            raise ResultsError(f"{self.files[0][0]}: no benchmark results")
        self.env = {}
        envpath = os.path.join(self.folder, "env.txt")
        if os.path.isdir(folder) and os.path.exists(envpath):
            with open(envpath) as f:
                for line in f:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        self.env[k.strip()] = v.strip()
        known = self.impls()
        for i in impls or []:
            if i not in known:
                raise ResultsError(f"unknown implementation '{i}' (this run has: {', '.join(known)})")

    def pus(self):
        for v in (self.context.get("chanlab.pus"), self.env.get("pus")):
            try:
                return int(v)
            except (TypeError, ValueError):
                pass
        return None

    def kind(self, impl):
        """CHANLAB, LOADED, PEER or FLOOR (see the module's doc)."""
        if impl == "floor" or f"floor.{impl}" in self.context:
            return FLOOR
        if impl in ("thread", "fiber"):
            return CHANLAB  # the runtime scenarios' executors (impl:fiber, impl:thread)
        queue = self.context.get(f"queue.{impl}")
        if queue is not None:
            library = str(queue).split(";")[0].strip()
            return {"chanlab": CHANLAB, LOADED_LIBRARY: LOADED}.get(library, PEER)
        if not any(k.startswith("queue.") for k in self.context):
            return CHANLAB if impl in registry_from_source() else PEER
        return PEER

    def impls(self):
        """Implementations in the run (the floor scenarios excluded):
        chanlab's first, then the loaded ones, the peers (Go first) and the
        floor rows."""
        order = {CHANLAB: 0, LOADED: 1, PEER: 2, FLOOR: 3}
        return sorted({r.impl for r in self.rows if r.impl != "floor"},
                      key=lambda n: (order[self.kind(n)], n != "go", n))

    def library(self, impl):
        """What an implementation is, from the results: its library and
        version, or "" if the results do not say."""
        queue = self.context.get(f"queue.{impl}")
        if queue is not None:
            return str(queue).split(";")[0].strip()
        if impl == "go":
            return self.env.get("go") or str(self.contexts.get("go.json", {}).get("go_version", ""))
        return str(self.context.get(f"library.{impl}", ""))

    def skipped_peers(self):
        """[(name, why)]: the peers that were not built or not run, from the
        results (peer.<name> in chanbench's context; the Rust program's
        rust_skipped and rust_failed in env.txt)."""
        out = [(k[5:], str(v)) for k, v in sorted(self.context.items())
               if k.startswith("peer.")]
        for key, what in (("rust_skipped", "skipped"), ("rust_failed", "failed")):
            if key in self.env:
                out.append(("crossbeam, flume, tokio (Rust)", f"{what}: {self.env[key]}"))
        return out

    def absent(self, impl):
        """{scenario: why} for the scenarios (or configurations) chanbench
        registered nothing for on impl, from absent.<scenario>.<impl>."""
        out = {}
        for k, v in self.context.items():
            parts = k.split(".")
            if len(parts) == 3 and parts[0] == "absent" and parts[2] == impl:
                out[parts[1]] = str(v)
        return out

    def series(self, scenario=None):
        """Series (implementation plus identifying parts) in the run."""
        names = {r.series for r in self.rows if r.impl != "floor"
                 and (scenario is None or r.scenario == scenario)}
        order = {n: i for i, n in enumerate(self.impls())}
        return sorted(names, key=lambda s: (order.get(s.split()[0], 99), s))

    def select(self, scenario, impl=None, place=None, series=None, **params):
        out = []
        for r in self.rows:
            if r.scenario != scenario or r.error:
                continue
            if impl is not None and r.impl != impl:
                continue
            if series is not None and r.series != series:
                continue
            if place is not None and r.place != place and not (
                    isinstance(place, tuple) and r.place in place):
                continue
            if any(r.params.get(k) != v for k, v in params.items()):
                continue
            out.append(r)
        return out

    def one(self, scenario, impl=None, place=None, **params):
        rows = self.select(scenario, impl, place, **params)
        return rows[0] if rows else None

    def of_kind(self, rows, kind):
        return [r for r in rows if self.kind(r.impl) == kind]

    def ring_floor(self, place, cap):
        """The raw-ring floor of SPSC at place and cap: the fastest spsc row
        of a floor queue there (ck_spsc; ck_mpmc is the other), or an older
        run's floor_ring row; None."""
        rows = self.of_kind(self.select("spsc", place=place, cap=cap, p=1, c=1), FLOOR)
        rows = [r for r in rows if not r.ident]
        rows = rows or self.select("floor_ring", place=place, cap=cap)
        return max(rows, key=lambda r: r.value) if rows else None

    def places(self, scenario):
        seen = {r.place for r in self.select(scenario)}
        return [p for p in PLACES if p in seen]

    def cross_place(self):
        """The nearest pinned placement with the two sides on different PUs
        (what "across cores" means on this machine), or None."""
        for p in self.places("pingpong"):
            if p not in ("same_pu",) + FREE:
                return p
        return None

    def errors(self):
        return [r for r in self.rows if r.error]

    def groups(self):
        """Rows by configuration (scenario, place, parameters): the rows of a
        group are the series that compete in it. Go and the peers run
        unpinned and join the unpinned groups, and so do fiber rows
        (place:runtime)."""
        out = {}
        for r in self.rows:
            if r.error:
                continue
            place = "unpinned" if r.place in FREE else r.place
            key = (r.scenario, place, tuple(sorted(r.params.items())))
            out.setdefault(key, []).append(r)
        return out


def speedup(a, b, alpha=stats.ALPHA):
    """How many times better row a is than row b by their metric (>1: a is
    better), with interval and test: stats.compare on the samples, inverted
    for lower-is-better metrics."""
    c = stats.compare(a.samples(), b.samples(), alpha)
    if not a.higher_is_better:
        c = dict(c, ratio=1 / c["ratio"] if c["ratio"] else math.nan,
                 lo=1 / c["hi"] if c["hi"] else math.nan,
                 hi=1 / c["lo"] if c["lo"] else math.nan)
    return c


def verdict(c):
    """'a' (a better), 'b' (b better) or '~' from a speedup() result."""
    if not c["different"]:
        return "~"
    return "a" if c["ratio"] > 1 else "b"


# ---- fibers against Go ----------------------------------------------------------

class Shape:
    """A shape of goroutine code measured on threads, on chanlab's fibers and
    in Go: a scenario at fixed parameters (in the order the benchmark names
    give them) and the placements its rows have."""

    def __init__(self, label, scenario, params=(), places=FREE):
        self.label, self.scenario = label, scenario
        self.params = dict(params)
        self.places = places

    def rows(self, run):
        return run.select(self.scenario, place=self.places, **self.params)

    def name_regex(self):
        """A regular expression matching the benchmark names of this shape,
        in chanbench's (std::regex, ECMAScript) and gochan's (RE2) syntax."""
        places = "|".join(self.places)
        args = "".join(f"/{k}:{v}" for k, v in self.params.items())
        return (f"^{self.scenario}/impl:[^/]+(/[a-z]+:[a-z]+)*/place:({places})"
                f"(/[a-z]+:[a-z]+)*{args}/")


# The shapes fibers are held against Go on, one registry for the report's
# table, the loaded-machine comparison and scripts/run.sh --loaded's rows.
# The thread row of switch runs both goroutines on one PU (same_pu).
GO_SHAPES = [
    Shape("ping-pong round trip", "pingpong"),
    Shape("SPSC, unbuffered", "spsc", [("cap", 0), ("p", 1), ("c", 1)]),
    Shape("pipeline, 1 stage (per value)", "pattern_pipeline", [("depth", 1)]),
    Shape("pipeline, 4 stages (per value)", "pattern_pipeline", [("depth", 4)]),
    Shape("pipeline, 16 stages (per value)", "pattern_pipeline", [("depth", 16)]),
    Shape("fan-in of 4 (per value)", "pattern_fanin", [("inputs", 4)]),
    Shape("worker pool, 4 workers (per job)", "pattern_pool", [("workers", 4)]),
    Shape("daisy chain, 1000 links (per link)", "pattern_daisy", [("links", 1000)]),
    Shape("daisy chain, 100000 links (per link)", "pattern_daisy", [("links", 100000)]),
    Shape("prime sieve, 300 primes", "pattern_sieve", [("primes", 300)]),
    Shape("spawn + exit + join", "spawn"),
    Shape("switch (a round trip)", "switch", places=FREE + ("same_pu",)),
]


def shapes_filter():
    """One regular expression matching every shape's benchmarks."""
    return "|".join(f"({s.name_regex()})" for s in GO_SHAPES)


def slowdown(quiet, loaded, alpha=stats.ALPHA):
    """How many times slower a row ran loaded than quiet (>1: slower), with
    interval and test: speedup(quiet, loaded)."""
    return speedup(quiet, loaded, alpha)


def slowdown_ratio(quiet_a, loaded_a, quiet_b, loaded_b):
    """a's slowdown under load over b's (>1: a suffers more), with a
    bootstrap interval (stats.ratio_of_ratios). Each slowdown is the quiet
    figure over the loaded one for a rate, the loaded over the quiet for a
    time or latency."""
    def pair(quiet, loaded):
        q, l = quiet.samples(), loaded.samples()
        return (q, l) if quiet.higher_is_better else (l, q)
    return stats.ratio_of_ratios(*pair(quiet_a, loaded_a), *pair(quiet_b, loaded_b))


if __name__ == "__main__":
    # scripts/run.sh asks for the rows of its loaded pass here.
    import sys
    if sys.argv[1:] == ["--shapes-filter"]:
        print(shapes_filter())
    else:
        print("usage: chanlab_results.py --shapes-filter   (the regex of the fibers-against-Go "
              "shapes' benchmark names)", file=sys.stderr)
        sys.exit(2)
