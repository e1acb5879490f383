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

# chanbench: bad input, in both --x=v and --x v forms.
expect 2 "unknown argument '--bogus'" "$bench" --bogus
expect 2 "unknown implementation 'nope'" "$bench" --impl=nope
expect 2 "unknown implementation 'nope'" "$bench" --impl nope
expect 2 "unknown scenario 'nope'" "$bench" --scenario=pingpong,nope
expect 2 "empty scenario list" "$bench" --scenario=,
expect 2 "unknown placement 'nope'" "$bench" --placement=nope
expect 2 "unknown executor 'nope'" "$bench" --executor=nope
expect 2 "empty executor list" "$bench" --executor ,
expect 2 "bad --messages" "$bench" --messages=0
expect 2 "bad --repetitions" "$bench" --repetitions 0
expect 2 "bad --min-time" "$bench" --min-time=-1
expect 2 "needs a value" "$bench" --messages
expect 2 "empty --filter" "$bench" --filter=
expect 2 "no benchmark matches" "$bench" --filter='^nothing$' --list
expect 2 "unknown argument 'stray'" "$bench" stray
# A hog per PU at most, pinned to a PU of its own.
expect 2 "bad --background-load 'two'" "$bench" --background-load two
expect 2 "bad --background-load '$(($(nproc) + 1))'" "$bench" --background-load=$(($(nproc) + 1))
expect nonzero "unrecognized" "$bench" --benchmark_nonsense=1
expect 0 "floor_cacheline/place:" "$bench" --list
expect 0 "benchmarks x 6 repetitions" "$bench" --list
expect 0 "benchmarks x 10 repetitions" "$bench" --full --list
expect 0 "pattern_pipeline/impl:$impl" "$bench" --scenario='pattern_*' --impl "$impl" --list
expect 0 "scenario pattern_daisy" "$bench" --list
# The executor axis: fiber rows on the runtime, thread rows by placement,
# the runtime scenarios named by executor; --executor selects.
expect 0 "pingpong/impl:$impl/exec:fiber/place:runtime" "$bench" --impl "$impl" --list
expect 0 "pattern_sieve/impl:$impl/exec:thread/place:unpinned/primes:300" "$bench" --impl "$impl" --list
expect 0 "stacks:unguarded/links:100000" "$bench" --impl "$impl" --list
expect 0 "spawn/impl:fiber/place:runtime" "$bench" --list
expect 0 "switch/impl:thread/place:same_pu" "$bench" --list
expect 0 "executor fiber" "$bench" --list
expect 1 "" bash -c "'$bench' --impl '$impl' --executor thread --list | grep -q /exec:fiber/"
expect 1 "" bash -c "'$bench' --impl '$impl' --executor fiber --list | grep -q /exec:thread/"
for flag in --quick --full --impl --scenario --placement --executor --filter --repetitions \
            --min-time --messages --out --topology --list --help "Suite durations"; do
  expect 0 "$flag" "$bench" --help
done
expect 2 "invalid hwloc synthetic topology" "$bench" --topology=synthetic:bogus --list
expect 2 "cannot read hwloc XML topology" "$bench" --topology xml:/nonexistent.xml --list
expect 2 "--topology wants" "$bench" --topology=banana

# Another machine's topology: what would run there, and the missing classes
# named with their reason. Pinning to PUs this machine lacks must fail each
# benchmark with a message (not hang: a peer of an unpinnable thread waits),
# and the run then exits 3.
synth="synthetic:pack:2 l3:2 core:4 pu:2"
expect 0 "pingpong/impl:$impl/exec:thread/place:smt" "$bench" --topology="$synth" --impl="$impl" --list
expect 0 "placement shared_l2 skipped" "$bench" --topology="$synth" --impl="$impl" --list
expect 0 "pair_cacheline/a:0/b:31" "$bench" --topology="$synth" --impl="$impl" --full --list
expect 3 "cannot pin" timeout 60 "$bench" --topology="$synth" --impl="$impl" \
  --scenario=pingpong,spsc,tryops,floor_futex --filter=diff_package \
  --min-time=0.001 --repetitions=3 --no-progress

# A repetition dropped (the machine too busy) or failed among good ones:
# Google Benchmark 1.7.1's statistics crash on that unless chanbench marks
# it and ends it with exactly the iterations the others did. The hook drops
# the N-th call of every benchmark body (a probe or a repetition).
for n in 1 3; do
  expect 0 "dropped: CHANBENCH_TEST_DROP_CALL" env CHANBENCH_TEST_DROP_CALL=$n \
    "$bench" --impl="$impl" --scenario=spsc,pattern_pipeline,pingpong,tryops \
    --filter=unpinned --min-time=0.002 --repetitions=3 --messages=3000 --no-progress
done

# The cost meters count on both executors: with CHANBENCH_TEST_ALLOC the
# producers allocate 100 bytes per message, which a fiber does on whichever
# worker runs it (the counters of every worker are summed).
expect 0 "alloc meters ok" bash -c "CHANBENCH_TEST_ALLOC=100 '$bench' --impl='$impl' \
  --scenario=spsc --filter='spsc/.*(unpinned|runtime)/cap:128' --min-time=0.005 \
  --repetitions=2 --messages=2000 --no-progress --out='$tmp/alloc.json' >/dev/null 2>&1 &&
  $py - '$tmp/alloc.json' <<'PY'
import json, sys
rows = [b for b in json.load(open(sys.argv[1]))['benchmarks'] if b.get('run_type') == 'iteration']
execs = {b['name'].split('/')[2] for b in rows}
assert execs == {'exec:thread', 'exec:fiber'}, execs
for b in rows:
    assert b['alloc_bytes_per_op'] >= 100 and b['allocs_per_op'] >= 1, b['name']
    assert b['cpu_ns_per_msg'] > 0, b['name']
print('alloc meters ok')
PY"

# The peers' rows: a floor is marked in --list and the context, and a row
# with a fiber scheduler of its own (Boost.Fiber) runs exec:fiber rows on
# place:runtime, measured as chanlab's fibers are (the rest of the process:
# the scheduler's workers, whose allocations count too). Only where the
# packages are installed (scripts/install-deps.sh --test installs them).
list=$("$bench" --list 2>/dev/null)
if grep -q "^queue    ck_spsc .*\[floor\]" <<<"$list"; then
  expect 0 '"floor.ck_spsc": "the raw-ring floor' "$bench" --impl=ck_spsc \
    --scenario=spsc --filter='unpinned/cap:128' --min-time=0.001 --repetitions=1 \
    --no-progress --out=/dev/stdout
fi
if grep -q "^queue    boost_fiber .*exec:fiber" <<<"$list"; then
  expect 0 "pingpong/impl:boost_fiber/exec:fiber/place:runtime" "$bench" --impl=boost_fiber \
    --scenario=pingpong,spsc --list
  expect 0 "own fibers ok" bash -c "CHANBENCH_TEST_ALLOC=100 '$bench' --impl=boost_fiber \
    --scenario=pingpong,spsc --filter=exec:fiber --messages=2000 --min-time=0.005 \
    --repetitions=2 --no-progress --out='$tmp/fibers.json' >/dev/null 2>&1 &&
    $py - '$tmp/fibers.json'" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = [b for b in doc["benchmarks"] if b.get("run_type") == "iteration"]
assert rows and all("/exec:fiber/place:runtime" in b["name"] for b in rows), "no exec:fiber rows"
assert all(b["cpu_ns_per_msg"] > 0 and not b.get("failed") for b in rows), "no CPU or failed"
assert any("p50_ns" in b for b in rows), "no ping-pong histogram"
spsc = [b for b in rows if b["name"].startswith("spsc/")]
assert spsc and all(b["alloc_bytes_per_op"] >= 100 and b["allocs_per_op"] >= 1
                    for b in spsc), "the workers' allocations were not counted"
assert doc["context"].get("fibers.boost_fiber"), "no fibers.boost_fiber in the context"
print("own fibers ok")
PY
fi

# A tiny real run: every repetition in the JSON, with its noise figures.
run=$tmp/run
mkdir -p "$run"
expect 0 "" "$bench" --impl="$impl" --scenario=floor_cacheline,pingpong,spsc,idle \
  --placement=unpinned,same_pu --messages=2000 --min-time=0.001 \
  --filter='pingpong|floor|spsc.*cap:128|idle' --out "$run/chanbench.json"
for key in p99_ns idle_cpu_pct '"repetition_index": 5' noise_other_pct noise_steal_pct \
           chanlab.scenarios '"scenario.pingpong": "queue latency' '"queue.'"$impl"'": "chanlab;'; do
  expect 0 "$key" cat "$run/chanbench.json"
done
expect 0 "CPU meter ok" $py - "$run/chanbench.json" <<'PY'
import json, sys
rows = [b for b in json.load(open(sys.argv[1]))["benchmarks"]
        if b.get("run_type") == "iteration" and b["name"].startswith("spsc/")]
assert rows and all(b["cpu_ns_per_msg"] > 0 for b in rows), "no CPU time measured"
every = [b for b in json.load(open(sys.argv[1]))["benchmarks"]
         if "noise_other_pct" in b and b.get("run_type") == "iteration"]
assert every and all(0 <= b["noise_other_pct"] <= 100 and 0 <= b["noise_steal_pct"] <= 100
                     for b in every), "noise out of range"
print("CPU meter ok")
PY
echo "pus: 2" > "$run/env.txt"
expect 0 "plots:" $py "$scripts/plot.py" "$run"
expect 0 "" test -s "$run/latency_by_placement.png"
expect 0 "report:" $py "$scripts/report.py" "$run"
for text in "## Targets" "## How far to trust this run" "repetitions each" "] " \
            "Google Benchmark's warnings" "### Threads, fibers and Go" \
            "An idle fiber runtime at ~0% CPU" "on fibers | $impl exec:fiber: at most"; do
  expect 0 "$text" cat "$run/README.md"
done
# Fibers (place:runtime) compete in the unpinned groups, with the threads.
# (A thread row's series is the implementation's name alone.)
expect 0 "" bash -c "grep -E '^\| pingpong \| unpinned \|' '$run/README.md' | grep 'exec:fiber' |
  grep -qE '[;|] $impl [0-9]'"
expect 1 "no such file" $py "$scripts/report.py" "$run" --baseline "$tmp/nothing"
expect 0 "0 significantly better, 0 significantly worse" $py "$scripts/compare.py" "$run" "$run"
expect 0 "" bash -c "! $py '$scripts/compare.py' '$run' '$run' | grep -q $'\033'"

# Extra result files and name parts are read generically: a peer's file and
# an identifying part (exec:other) join the tables, plots and comparisons;
# a Go file brings the fibers-against-Go table; a baseline run
# without the executor axis checks the thread rows (no regression).
gen=$tmp/gen
mkdir -p "$gen"
cp "$run/chanbench.json" "$gen/"
$py - "$run/chanbench.json" "$gen/peers-rust.json" "$gen/other.json" "$gen/go.json" \
  "$tmp/base/chanbench.json" <<'PY'
import json, os, sys
doc = json.load(open(sys.argv[1]))
rows = [b for b in doc["benchmarks"] if b.get("run_type") == "iteration"]
spsc = [b for b in rows if b["name"].startswith("spsc/") and "unpinned" in b["name"]]
pingpong = [b for b in rows if b["name"].startswith("pingpong/") and "/exec:thread" in b["name"]]
def renamed(rows, old, new):
    return [dict(b, name=b["name"].replace(old, new), run_name=b["run_name"].replace(old, new))
            for b in rows]
impl = spsc[0]["name"].split("/")[1]
json.dump({"context": {}, "benchmarks": renamed(spsc + pingpong, impl + "/exec:thread",
                                                "impl:crossbeam")},
          open(sys.argv[2], "w"))
json.dump({"context": {}, "benchmarks": renamed(spsc, "exec:thread", "exec:other")},
          open(sys.argv[3], "w"))
fib = [b for b in rows if "/exec:fiber/place:runtime" in b["name"]]
json.dump({"context": {}, "benchmarks": renamed(fib, impl + "/exec:fiber/place:runtime",
                                                "impl:go/place:unpinned")}, open(sys.argv[4], "w"))
os.makedirs(os.path.dirname(sys.argv[5]), exist_ok=True)
thr = [b for b in rows if "/exec:fiber" not in b["name"]]
json.dump(dict(doc, benchmarks=renamed(thr, "/exec:thread", "")), open(sys.argv[5], "w"))
PY
expect 0 "plots:" $py "$scripts/plot.py" "$gen"
expect 0 "exec_pingpong.png" $py "$scripts/plot.py" "$gen"
expect 0 "report:" $py "$scripts/report.py" "$gen" --baseline "$tmp/base"
expect 0 "crossbeam" cat "$gen/README.md"
expect 0 "$impl exec:other" cat "$gen/README.md"
expect 0 "peers-rust.json" cat "$gen/README.md"
expect 0 "## Fibers against Go" cat "$gen/README.md"
expect 0 "| ping-pong round trip | $impl exec:fiber " cat "$gen/README.md"
expect 0 "## What to pick on this machine" cat "$gen/README.md"
expect 0 "Thread executor: no regression | " cat "$gen/README.md"
expect 0 "significantly slower beyond 5% | met" cat "$gen/README.md"
# The peers' section: chanlab's best against the best peer, the peers table
# and figure; the Rust program's recorded skip reason.
printf 'rust_skipped: building it failed: no cargo here\ncpu_model: Test CPU 9000\npus: 2\n' \
  > "$gen/env.txt"
expect 0 "report:" $py "$scripts/report.py" "$gen"
# Every section of figures names the machine, from env.txt.
expect 0 "# chanlab benchmark run \`gen\` on Test CPU 9000, 2 PUs" cat "$gen/README.md"
expect 0 "## Fibers against Go on Test CPU 9000, 2 PUs" cat "$gen/README.md"
for text in "## Against the peers" "### The peers table" "| crossbeam | peer |" \
            "chanlab's best against the best peer" "no cargo here" "peers_spsc.png"; do
  expect 0 "$text" cat "$gen/README.md"
done
if [ "$impl" = futex ]; then
  expect 0 "| futex >= crossbeam, ping-pong | pingpong - (unpinned) | futex" cat "$gen/README.md"
fi
# A loaded pass (run.sh --loaded's loaded/): the fiber rows at half the
# speed, Go's unchanged, so the fibers suffer more than Go.
mkdir "$gen/loaded"
cp "$gen/go.json" "$gen/loaded/"
$py - "$gen/chanbench.json" "$gen/loaded/chanbench.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for b in doc["benchmarks"]:
    if "/exec:fiber/" in b["name"]:
        for key in ("real_time", "p50_ns"):
            if key in b:
                b[key] *= 2
        if "items_per_second" in b:
            b["items_per_second"] /= 2
doc["context"]["background_load"] = "1"
json.dump(doc, open(sys.argv[2], "w"))
PY
expect 0 "report:" $py "$scripts/report.py" "$gen"
expect 0 "## Under load: threads, fibers and Go" cat "$gen/README.md"
expect 0 "" bash -c "grep -E '^\| ping-pong round trip \| .* \| fibers suffer more \|$' '$gen/README.md'"
expect 1 "not a results folder" $py "$scripts/report.py" "$gen" --loaded "$tmp/nothing"
rm -r "$gen/loaded"
cp "$gen/peers-rust.json" "$gen/again.json"
expect 1 "is in both" $py "$scripts/report.py" "$gen"

# compare.py in benchstat's spirit: verdicts, warnings, exit status.
slow=$tmp/slow
mkdir -p "$slow"
$py - "$run/chanbench.json" "$slow/chanbench.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for b in doc["benchmarks"]:  # everything twice as slow, one row missing
    for k in ("real_time", "p50_ns", "idle_cpu_pct"):
        if k in b:
            b[k] *= 2
    if "items_per_second" in b:
        b["items_per_second"] /= 2
doc["benchmarks"] = [b for b in doc["benchmarks"] if not b["name"].startswith("idle/")]
json.dump(doc, open(sys.argv[2], "w"))
PY
printf 'git_commit: aaaa\npus: 2\n' > "$run/env.txt"
printf 'git_commit: bbbb\npus: 2\n' > "$slow/env.txt"
expect 0 "significantly worse" $py "$scripts/compare.py" "$run" "$slow"
expect 0 "git_commit changed" $py "$scripts/compare.py" "$run" "$slow"
expect 0 "rows only in the old run" $py "$scripts/compare.py" "$run" "$slow"
expect 1 "significant regression" $py "$scripts/compare.py" --fail-on-regression "$run" "$slow"
one=$tmp/one
mkdir -p "$one"
$py - "$run/chanbench.json" "$one/chanbench.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["benchmarks"] = [b for b in doc["benchmarks"] if b.get("repetition_index", 0) == 0]
json.dump(doc, open(sys.argv[2], "w"))
PY
expect 0 "too few repetitions" $py "$scripts/compare.py" "$run" "$one"
expect 2 "empty --filter" $py "$scripts/compare.py" --filter= "$run" "$run"

# rerun_check.py: the issue's targets from two runs of one commit.
# Two runs of 6 clean repetitions each (a busy machine may drop some of the
# tiny run's): no flips, no false alarms.
mkdir -p "$tmp/r1" "$tmp/r2"
$py - "$run/chanbench.json" "$tmp/r1/chanbench.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
first = {}
for b in doc["benchmarks"]:
    if b.get("run_type") == "iteration" and not b.get("error_occurred"):
        first.setdefault(b["run_name"], b)
doc["benchmarks"] = [dict(b, repetition_index=i, repetitions=6,
                          real_time=b["real_time"] * (1 + 0.01 * i))
                     for b in first.values() for i in range(6)]
json.dump(doc, open(sys.argv[2], "w"))
PY
printf 'git_commit: aaaa\npus: 2\nsuite: quick\nsuite_seconds: 120\n' > "$tmp/r1/env.txt"
cp "$tmp/r1/"* "$tmp/r2/"
expect 0 "0 of" $py "$scripts/rerun_check.py" "$tmp/r1" "$tmp/r2"
expect 2 "the runs differ" $py "$scripts/rerun_check.py" "$tmp/r1" "$slow"
expect 2 "no such file" $py "$scripts/rerun_check.py" "$run" "$tmp/nothing"

# The scripts: bad input.
expect 1 "no such file" $py "$scripts/plot.py" "$tmp/missing"
expect 1 "unknown implementation 'nope'" $py "$scripts/plot.py" "$run" --impl=nope
mkdir -p "$tmp/bad" "$tmp/odd" "$tmp/empty"
echo '{"benchmarks": [' > "$tmp/bad/chanbench.json"
expect 1 "malformed JSON" $py "$scripts/plot.py" "$tmp/bad"
expect 1 "malformed JSON" $py "$scripts/report.py" "$tmp/bad"
expect 2 "malformed JSON" $py "$scripts/compare.py" "$run" "$tmp/bad"
echo '{"benchmarks": [{"name": "warp/impl:x", "real_time": 1, "cpu_time": 1, "time_unit": "ns"}]}' \
  > "$tmp/odd/chanbench.json"
expect 1 "unknown scenario 'warp'" $py "$scripts/plot.py" "$tmp/odd"
echo '{"context": {}}' > "$tmp/empty/chanbench.json"
expect 1 "no 'benchmarks' list" $py "$scripts/report.py" "$tmp/empty"
expect 2 "no such file" $py "$scripts/compare.py" "$run" "$tmp/nothing"

# The command lines: getopt everywhere, -h/--help, bad flags rejected.
expect 2 "unrecognized option '--frobnicate'" "$scripts/run.sh" --frobnicate
expect 2 "empty --filter" "$scripts/run.sh" --skip-deps --filter=
expect 0 "--repetitions" "$scripts/run.sh" --help
expect 0 "--loaded" "$scripts/run.sh" --help
expect 2 "--background-load wants a whole number" "$scripts/run.sh" --background-load=lots
expect 2 "--background-load wants a whole number" "$scripts/run.sh" --background-load $(($(nproc) + 1))
expect 2 "leave out --background-load" "$scripts/run.sh" --loaded --background-load 1
expect 0 "--no-rust" "$scripts/run.sh" --help
expect 0 "--impl-lib" "$scripts/run.sh" --help
expect 2 "--impl-lib: no such file '$tmp/libnone.so'" "$scripts/run.sh" --impl-lib "$tmp/libnone.so"
expect 0 "minutes" "$scripts/run.sh" -h
expect 2 "unrecognized option '--frobnicate'" "$scripts/test.sh" --frobnicate
expect 0 "--preset" "$scripts/test.sh" --help
expect 0 "--impl-lib" "$scripts/test.sh" --help
expect 2 "--impl-lib: no such file '$tmp/libnone.so'" "$scripts/test.sh" --impl-lib "$tmp/libnone.so"
expect 2 "--loaded-only checks the --impl-lib and --mutant libraries; none given" "$scripts/test.sh" --loaded-only
expect 2 "--mutant: no such file '$tmp/libnone.so'" "$scripts/test.sh" --mutant "$tmp/libnone.so"
: > "$tmp/libplain.so"
expect 2 "is not built with -fsanitize=thread" "$scripts/test.sh" -p tsan --impl-lib "tsan=$tmp/libplain.so"
expect 2 "unrecognized option '--frobnicate'" "$scripts/install-deps.sh" --frobnicate
expect 0 "--test" "$scripts/install-deps.sh" -h
expect 0 "python3-scipy" "$scripts/install-deps.sh" --list --test

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
  expect 2 "no benchmark matches" "$shim" --benchmark_filter=nothing_at_all
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
marked = [b for b in doc["benchmarks"] if b["name"].startswith("shim_marked")
          and b.get("run_type") == "iteration"]
check(len(marked) == 5 and all(b["iterations"] == 8 for b in marked)
      and not any(b.get("error_occurred") for b in marked), "marked repetitions")
check([b.get("failed", 0) for b in marked] == [1, 0, 0, 0, 0]
      and marked[0]["label"] == "error: planned failure", "bench_fail")
check([b.get("dropped", 0) for b in marked] == [0, 0, 0, 1, 0]
      and marked[3]["label"] == "dropped: planned drop", "bench_drop")
print("shim JSON ok")
PY
  expect nonzero "unrecognized" "$shim" --benchmark_bogus
  expect 0 "shim_args/a:2/b:20" "$shim" --benchmark_filter=shim_args --benchmark_format=json
fi

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
