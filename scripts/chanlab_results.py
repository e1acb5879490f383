"""chanlab_results - load and index chanlab benchmark results.

Reads the Google Benchmark JSON written by chanbench (--benchmark_out) and
the Go peer's JSON (same schema), checks them, and turns every benchmark name
"<scenario>/impl:<impl>/place:<place>/<key>:<value>/..." into a row with its
parameters, so plot.py, report.py and compare.py share one reading of it.
Errors are raised as ResultsError with a message meant for the user.
"""
import json
import os
import re
import statistics

TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


class ResultsError(Exception):
    pass


def load_json(path):
    if not os.path.exists(path):
        raise ResultsError(f"{path}: no such file")
    try:
        with open(path) as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: malformed JSON ({e})") from None
    except OSError as e:
        raise ResultsError(f"{path}: {e.strerror}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise ResultsError(f"{path}: not Google Benchmark JSON (no 'benchmarks' list)")
    return doc


def parse_name(name):
    """'spsc/impl:futex/place:unpinned/cap:128/p:1/c:1/manual_time' ->
    ('spsc', {'impl': 'futex', 'place': 'unpinned', 'cap': 128, ...})."""
    parts = name.split("/")
    scenario, params = parts[0], {}
    for seg in parts[1:]:
        if seg in ("manual_time", "real_time", "process_time"):
            continue
        if ":" not in seg:
            raise ResultsError(f"benchmark name '{name}': segment '{seg}' is not key:value")
        key, value = seg.split(":", 1)
        try:
            params[key] = int(value)
        except ValueError:
            params[key] = value
    return scenario, params


# bench/scenarios.def, for results whose JSON does not carry the list.
SCENARIOS_DEF = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "bench", "scenarios.def")


def scenarios_of(doc):
    """{name: {"group", "metric", "summary"}} from a chanbench JSON context
    (chanlab.scenarios and scenario.<name>, written from bench/scenarios.def),
    or {} if the file does not carry the list."""
    ctx = doc.get("context", {}) if isinstance(doc.get("context"), dict) else {}
    out = {}
    for name in filter(None, ctx.get("chanlab.scenarios", "").split(",")):
        desc = ctx.get(f"scenario.{name}", "")
        m = re.match(r"(\w+) (\w+): (.*)", desc)
        out[name] = ({"group": m[1], "metric": m[2], "summary": m[3]} if m else
                     {"group": "queue", "metric": "rate", "summary": desc})
    return out


def scenarios_from_source():
    """The same from bench/scenarios.def itself (older results)."""
    out = {}
    try:
        with open(SCENARIOS_DEF) as f:
            for m in re.finditer(r'^SCENARIO\((\w+), (\w+), (\w+), "(.*)"\)$',
                                 f.read(), re.M):
                out[m[1]] = {"group": m[2].lower(), "metric": m[3].lower(),
                             "summary": m[4]}
    except OSError:
        pass
    return out


def rows_from(doc, path, strict=True, known=None):
    """One row per benchmark run (median over repetitions)."""
    groups = {}
    for b in doc["benchmarks"]:
        if not isinstance(b, dict) or "name" not in b:
            raise ResultsError(f"{path}: a benchmark entry has no name")
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates: we recompute medians ourselves
        name = b.get("run_name", b["name"])
        groups.setdefault(name, []).append(b)
    rows = []
    for name, runs in groups.items():
        scenario, params = parse_name(name)
        if strict and known is not None and scenario not in known:
            raise ResultsError(f"{path}: unknown scenario '{scenario}' in '{name}'")
        row = {"name": name, "scenario": scenario, "impl": params.pop("impl", "floor"),
               "place": params.pop("place", "none"), "params": params,
               "error": None, "reps": len(runs)}
        errors = [r.get("error_message", "error") for r in runs if r.get("error_occurred")]
        if errors:
            row["error"] = errors[0]
            rows.append(row)
            continue
        unit = TO_NS.get(runs[0].get("time_unit", "ns"))
        if unit is None:
            raise ResultsError(f"{path}: '{name}' has unknown time_unit")
        keys = set()
        for r in runs:
            keys.update(k for k, v in r.items() if isinstance(v, (int, float)))
        for k in keys:
            vals = [r[k] for r in runs if isinstance(r.get(k), (int, float))]
            row[k] = statistics.median(vals)
        row["time_ns"] = row.get("real_time", 0) * unit
        rows.append(row)
    return rows


class Run:
    """A results folder: chanbench.json (+ go.json, env.txt, topology.xml)."""

    def __init__(self, folder, impls=None, strict=True):
        if not os.path.exists(folder):
            raise ResultsError(f"{folder}: no such file or directory")
        if not os.path.isdir(folder):
            raise ResultsError(f"{folder}: not a results folder")
        self.folder = folder
        main = os.path.join(folder, "chanbench.json")
        self.doc = load_json(main)
        self.context = self.doc.get("context", {})
        self.go_doc = None
        gopath = os.path.join(folder, "go.json")
        if os.path.exists(gopath):
            self.go_doc = load_json(gopath)
        self.scenarios = scenarios_of(self.doc) or scenarios_from_source()
        self.rows = rows_from(self.doc, main, strict, self.scenarios)
        if self.go_doc:
            self.rows += rows_from(self.go_doc, gopath, strict, self.scenarios)
        if not self.rows:
            raise ResultsError(f"{main}: no benchmark results")
        self.env = {}
        envpath = os.path.join(folder, "env.txt")
        if os.path.exists(envpath):
            with open(envpath) as f:
                for line in f:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        self.env[k.strip()] = v.strip()
        known = self.impls()
        for i in impls or []:
            if i not in known:
                raise ResultsError(f"unknown implementation '{i}' (this run has: {', '.join(known)})")

    def impls(self):
        """Channel implementations in the run (the floor excluded), Go last."""
        names = sorted({r["impl"] for r in self.rows if r["impl"] != "floor"})
        return [n for n in names if n != "go"] + (["go"] if "go" in names else [])

    def select(self, scenario, impl=None, place=None, **params):
        out = []
        for r in self.rows:
            if r["scenario"] != scenario or r["error"]:
                continue
            if impl is not None and r["impl"] != impl:
                continue
            if place is not None and r["place"] != place:
                continue
            if any(r["params"].get(k) != v for k, v in params.items()):
                continue
            out.append(r)
        return out

    def one(self, scenario, impl=None, place=None, **params):
        rows = self.select(scenario, impl, place, **params)
        return rows[0] if rows else None

    def places(self, scenario):
        order = ["same_pu", "smt", "shared_l2", "shared_l3", "diff_l3",
                 "diff_numa", "diff_package", "unpinned"]
        seen = {r["place"] for r in self.select(scenario)}
        return [p for p in order if p in seen]

    def cross_place(self):
        """The nearest pinned placement with the two sides on different PUs
        (what "across cores" means on this machine), or None."""
        for p in self.places("pingpong"):
            if p not in ("same_pu", "unpinned"):
                return p
        return None

    def errors(self):
        return [r for r in self.rows if r["error"]]
