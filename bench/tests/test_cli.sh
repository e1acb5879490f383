#!/usr/bin/env bash
# test_cli.sh - the benchmark tools' behaviour at their edges: chanbench and
# the scripts reject bad flags, names and files with a message and a
# non-zero exit, and a tiny real run goes through JSON, plots and report.
#   test_cli.sh <path to chanbench> <scripts dir> [<bench_shim_selftest>]
set -uo pipefail
bench=$1 scripts=$2 shim=${3:-}
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/chanlab-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0

# expect <want-rc: 0|nonzero|N> <stderr/stdout must contain> <command...>
expect() {
  local want=$1 text=$2
  shift 2
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  local ok=1
  case $want in
    0) [ $rc -eq 0 ] || ok=0 ;;
    nonzero) [ $rc -ne 0 ] || ok=0 ;;
    *) [ $rc -eq "$want" ] || ok=0 ;;
  esac
  if [ $ok = 1 ] && [ -n "$text" ] && ! grep -qF -- "$text" <<<"$out"; then ok=0; fi
  if [ $ok = 1 ]; then
    passes=$((passes + 1))
  else
    fails=$((fails + 1))
    echo "FAIL: $* -> rc $rc (wanted $want), output must contain '$text':"
    echo "$out" | tail -5 | sed 's/^/    /'
  fi
}

impl=$("$bench" --list 2>/dev/null | sed -n 's/^implementations: \([a-z0-9_]*\).*/\1/p')
[ -n "$impl" ] || { echo "FAIL: chanbench --list names no implementation"; exit 1; }

# chanbench: bad input.
expect 2 "unknown argument '--bogus'" "$bench" --bogus
expect 2 "unknown implementation 'nope'" "$bench" --impl=nope
expect 2 "unknown scenario 'nope'" "$bench" --scenario=pingpong,nope
expect 2 "unknown placement 'nope'" "$bench" --placement=nope
expect 2 "bad --messages" "$bench" --messages=0
expect nonzero "unrecognized" "$bench" --benchmark_nonsense=1
expect 0 "floor_cacheline/place:" "$bench" --list
expect 2 "invalid hwloc synthetic topology" "$bench" --topology=synthetic:bogus --list
expect 2 "cannot read hwloc XML topology" "$bench" --topology=xml:/nonexistent.xml --list
expect 2 "--topology wants" "$bench" --topology=banana

# Another machine's topology: what would run there, and the missing classes
# named with their reason. Pinning to PUs this machine lacks must fail each
# benchmark with a message (not hang: a peer of an unpinnable thread waits).
synth="synthetic:pack:2 l3:2 core:4 pu:2"
expect 0 "pingpong/impl:$impl/place:smt" "$bench" --topology="$synth" --impl="$impl" --list
expect 0 "placement shared_l2 skipped" "$bench" --topology="$synth" --impl="$impl" --list
expect 0 "pair_cacheline/a:0/b:31" "$bench" --topology="$synth" --impl="$impl" --full --list
expect 0 "cannot pin" timeout 60 "$bench" --topology="$synth" --impl="$impl" \
  --scenario=pingpong,spsc,tryops,floor_futex --benchmark_filter=diff_package \
  --benchmark_min_time=0.001

# A tiny real run: JSON from Google Benchmark's own --benchmark_out.
run=$tmp/run
mkdir -p "$run"
expect 0 "" "$bench" --impl="$impl" --scenario=floor_cacheline,pingpong,spsc,idle \
  --placement=unpinned,same_pu --messages=2000 --benchmark_min_time=0.001 \
  --benchmark_filter='pingpong|floor|spsc.*cap:128|idle' \
  --benchmark_out="$run/chanbench.json" --benchmark_out_format=json
expect 0 "p99_ns" cat "$run/chanbench.json"
expect 0 "idle_cpu_pct" cat "$run/chanbench.json"
echo "pus: 2" > "$run/env.txt"
expect 0 "plots:" $py "$scripts/plot.py" "$run"
expect 0 "" test -s "$run/latency_by_placement.png"
expect 0 "report:" $py "$scripts/report.py" "$run"
expect 0 "## Targets" cat "$run/README.md"
expect 0 "Comparing" $py "$scripts/compare.py" "$run" "$run"

# The scripts: bad input.
expect 1 "no such file" $py "$scripts/plot.py" "$tmp/missing"
expect 1 "unknown implementation 'nope'" $py "$scripts/plot.py" "$run" --impl=nope
mkdir -p "$tmp/bad" "$tmp/odd" "$tmp/empty"
echo '{"benchmarks": [' > "$tmp/bad/chanbench.json"
expect 1 "malformed JSON" $py "$scripts/plot.py" "$tmp/bad"
expect 1 "malformed JSON" $py "$scripts/report.py" "$tmp/bad"
expect 1 "malformed JSON" $py "$scripts/compare.py" "$run" "$tmp/bad"
echo '{"benchmarks": [{"name": "warp/impl:x", "real_time": 1, "cpu_time": 1, "time_unit": "ns"}]}' \
  > "$tmp/odd/chanbench.json"
expect 1 "unknown scenario 'warp'" $py "$scripts/plot.py" "$tmp/odd"
echo '{"context": {}}' > "$tmp/empty/chanbench.json"
expect 1 "no 'benchmarks' list" $py "$scripts/report.py" "$tmp/empty"
expect 1 "no such file" $py "$scripts/compare.py" "$run" "$tmp/nothing"
expect 2 "unknown argument '--frobnicate'" "$scripts/run.sh" --frobnicate

# The per-PU-pair heatmap (this machine may have only 2 PUs): a 3-PU fixture.
mkdir -p "$tmp/pairs"
$py - "$tmp/pairs/chanbench.json" <<'PY'
import json, sys
rows = [{"name": f"pair_cacheline/a:{a}/b:{b}/manual_time", "run_type": "iteration",
         "real_time": 100.0 * (a + b + 1), "cpu_time": 1.0, "time_unit": "ns",
         "iterations": 10} for a in range(3) for b in range(a + 1, 3)]
json.dump({"context": {}, "benchmarks": rows}, open(sys.argv[1], "w"))
PY
expect 0 "pair_heatmap.png" $py "$scripts/plot.py" "$tmp/pairs"

# The C shim: every feature leaves its mark in Google Benchmark's JSON.
if [ -n "$shim" ]; then
  expect 0 "" "$shim" --benchmark_out="$tmp/shim.json" --benchmark_out_format=json
  expect 0 "shim JSON ok" $py - "$tmp/shim.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {b["name"]: b for b in doc["benchmarks"] if b.get("run_type") == "iteration"}
def check(cond, what):
    if not cond:
        sys.exit(f"shim JSON: {what}")
m = rows["shim_manual/iterations:5/manual_time"]
check(m["time_unit"] == "us" and abs(m["real_time"] - 1000.0) < 1e-6, "manual time 1 ms")
check(abs(m["items_per_second"] - 10000) < 1e-3, "items per second from manual time")
check(abs(m["bytes_per_second"] - 80000) < 1e-3, "bytes per second")
for a in (1, 2):
    for b in (10, 20):
        r = rows[f"shim_args/a:{a}/b:{b}/iterations:3"]
        check(r["sum"] == a + b and r["tag"] == 42, "named args product, user data")
r = rows["shim_batch/iterations:70"]
check(r["iterations"] == 70 and r["calls"] == 10 and r["per_iter"] == 1, "batches of 7")
r = rows["shim_threads/iterations:10/real_time/threads:2"]
check(r["threads"] == 2 and r["threads_seen"] == 2 and r["count_avg"] == 2
      and r["index_sum"] == 1, "threads and counter flags")
r = rows["shim_pause/iterations:5/real_time"]
check(r["real_time"] < 1e6, "paused time excluded (%s ns)" % r["real_time"])
r = rows["shim_skip"]
check(r.get("error_occurred") and r.get("error_message") == "planned skip", "skip with error")
reps = [b for b in doc["benchmarks"] if b["name"].startswith("shim_reps")]
check(sum(1 for b in reps if b.get("run_type") == "iteration") == 3, "3 repetitions")
check(any(b.get("aggregate_name") == "median" for b in reps), "aggregates")
check(all(3 <= b["iterations"] <= 20 for b in reps if b.get("run_type") == "iteration"),
      "min time 3 ms at 1 ms per iteration")
check(doc["context"].get("shim.test") == "yes", "custom context")
print("shim JSON ok")
PY
  expect nonzero "unrecognized" "$shim" --benchmark_bogus
  expect 0 "shim_args/a:2/b:20" "$shim" --benchmark_filter=shim_args --benchmark_format=json
fi

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
