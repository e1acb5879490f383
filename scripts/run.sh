#!/usr/bin/env bash
# run.sh - chanlab's first command: install what is missing, build the
# release preset, run the benchmark suite (quick by default) with Go's
# channels and the hardware floors in the same run, and write
# results/<date>-<host>[-N]/ with the JSON, the environment, plots and a
# README.md report. An earlier run is never overwritten.
#
# usage: scripts/run.sh [options]        (--x=v and --x v both work)
#   -q, --quick             the quick suite (default): 6 repetitions of each
#                           benchmark; about 5 minutes on 2 PUs in all
#                           (the Rust peers' first build adds about 1.5)
#   -f, --full              every configuration on every placement and
#                           executor, 10 repetitions; about 100 minutes on 2 PUs
#   -r, --repetitions N     repetitions per benchmark (default 6 quick, 10 full)
#   -t, --min-time S        seconds per repetition (default 0.08 quick, 0.2 full)
#   -F, --filter REGEX      only benchmarks whose name matches
#   -i, --impl LIST         implementations (chanbench's queues, go, crossbeam,
#                           flume, tokio), comma-separated
#       --impl-lib PATH     your implementation (a chan/impl.h shared object;
#                           repeatable): its channels run beside chanlab's,
#                           the peers and Go, and the report has a section
#                           "Your implementation against the field"
#   -s, --scenario LIST     scenarios (names or globs; chanbench --list)
#   -e, --executor LIST     thread, fiber or both (default) where a scenario
#                           has the executor axis (chanbench's; Go runs anyway)
#       --baseline DIR      an earlier results folder: the report checks the
#                           thread executor's rows against it (no regression)
#       --loaded            a second, loaded pass after the quiet one: the
#                           fibers-against-Go shapes (or the --filter's rows)
#                           on chanlab's implementations (or --impl's) and Go,
#                           with one spinning hog on the last PU, into
#                           <run>/loaded/; the report shows each one's
#                           slowdown under load. Opt-in: about 1.5 minutes
#                           more on 2 PUs
#       --background-load N the whole run with N spinning hogs, each pinned
#                           to one of the last N PUs (chanbench's and gochan's
#                           --background-load; the Rust peers, which have no
#                           such flag, are left out)
#       --no-go             leave out Go's channels
#       --no-rust           leave out the Rust peers (crossbeam, flume, tokio)
#       --allocator NAME    jemalloc (default) or system
#       --results DIR       where the run folder goes (default results/)
#       --skip-deps         do not check the Debian packages
#   -h, --help              this help
# Environment: CHANLAB_BUILD_DIR (default build/release), JOBS (default 2).
# Afterwards: build/release/bench/chanbench, build/release/examples/chanlab-demo,
# build/release/bench/peers/rust/chanpeers (the Rust peers), scripts/compare.py,
# scripts/plot.py and scripts/report.py are ready to use.
set -euo pipefail

caller_dir=$PWD command_line="scripts/run.sh $*"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

usage() {
  sed -n '/^# usage:/,/^# scripts\/plot.py/p' "$0" | sed 's/^# \{0,1\}//'
}
die() { echo "run.sh: $*" >&2; exit 2; }

parsed=$(getopt -n run.sh -o qfr:t:F:i:s:e:h \
  -l quick,full,repetitions:,min-time:,filter:,impl:,impl-lib:,scenario:,executor:,baseline:,loaded,background-load:,no-go,no-rust,allocator:,results:,skip-deps,help \
  -- "$@") || { echo "(scripts/run.sh --help lists the flags)" >&2; exit 2; }
eval set -- "$parsed"
suite=quick go=1 rust=1 allocator=jemalloc min_time="" filter="" impl="" scenario=""
repetitions="" results_base="$root/results" skip_deps=0 filter_set=0
executor="" baseline="" loaded=0 background_load=0 rust_skipped="" impl_libs=()
while true; do
  case "$1" in
    -q|--quick) suite=quick; shift ;;
    -f|--full) suite=full; shift ;;
    -r|--repetitions) repetitions=$2; shift 2 ;;
    -t|--min-time) min_time=$2; shift 2 ;;
    -F|--filter) filter=$2 filter_set=1; shift 2 ;;
    -i|--impl) impl=$2; shift 2 ;;
    --impl-lib) impl_libs+=("$2"); shift 2 ;;
    -s|--scenario) scenario=$2; shift 2 ;;
    -e|--executor) executor=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --loaded) loaded=1; shift ;;
    --background-load) background_load=$2; shift 2 ;;
    --no-go) go=0; shift ;;
    --no-rust) rust=0; shift ;;
    --allocator) allocator=$2; shift 2 ;;
    --results) results_base=$2; shift 2 ;;
    --skip-deps) skip_deps=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
  esac
done
[ $# -eq 0 ] || die "unexpected argument '$1' (scripts/run.sh --help lists the flags)"
case "$allocator" in jemalloc|system) ;; *) die "--allocator wants jemalloc or system, not '$allocator'" ;; esac
if [ -n "$min_time" ] && ! [[ "$min_time" =~ ^[0-9]*\.?[0-9]+$ ]]; then
  die "--min-time wants a number of seconds, not '$min_time'"
fi
if [ -n "$repetitions" ] && ! [[ "$repetitions" =~ ^[1-9][0-9]*$ ]]; then
  die "--repetitions wants a whole number of at least 1, not '$repetitions'"
fi
[ $filter_set = 0 ] || [ -n "$filter" ] || die "empty --filter"
if [ -n "$baseline" ] && [ ! -d "$baseline" ]; then
  die "--baseline: '$baseline' is not a results folder"
fi
# --impl-lib: paths as the caller gave them (chanbench loads them and names
# a bad one).
for i in "${!impl_libs[@]}"; do
  [[ "${impl_libs[$i]}" = /* ]] || impl_libs[$i]=$caller_dir/${impl_libs[$i]}
  [ -f "${impl_libs[$i]}" ] || die "--impl-lib: no such file '${impl_libs[$i]}'"
done
# One hog per PU at most (chanbench and gochan check it again).
if ! [[ "$background_load" =~ ^[0-9]+$ ]] || [ "$background_load" -gt "$(nproc)" ]; then
  die "--background-load wants a whole number from 0 to $(nproc) (one hog per PU), not '$background_load'"
fi
if [ $loaded = 1 ] && [ "$background_load" != 0 ]; then
  die "--loaded compares a loaded pass with a quiet one: leave out --background-load"
fi
# --impl: "go" is Go's program, crossbeam, flume and tokio the Rust
# program's (bench/peers/rust, its IMPLS); the other names are chanbench's.
rust_impls=(crossbeam flume tokio)
bench_impl="" rust_impl="" run_bench=1
if [ -n "$impl" ]; then
  [ -n "${impl//,/}" ] || die "empty --impl list"
  IFS=, read -r -a names <<<"$impl"
  keep=() rust_keep=() want_go=0
  for n in "${names[@]}"; do
    if [ "$n" = go ]; then
      want_go=1
    elif [[ " ${rust_impls[*]} " == *" $n "* ]]; then
      rust_keep+=("$n")
    else
      keep+=("$n")
    fi
  done
  [ $want_go = 1 ] || go=0
  [ ${#rust_keep[@]} -gt 0 ] || rust=0
  rust_impl=$(IFS=,; echo "${rust_keep[*]:-}")
  bench_impl=$(IFS=,; echo "${keep[*]:-}")
  [ -n "$bench_impl" ] || run_bench=0
fi
if [ "$background_load" != 0 ] && [ $rust = 1 ]; then
  rust=0 rust_skipped="left out (--background-load: the Rust program has no background load)"
fi

started=$(date +%s)
step=0 steps=$((3 + run_bench + go + rust + loaded))
log() { step=$((step + 1)); printf '\n== [%d/%d] %s\n' "$step" "$steps" "$*"; }

# 1. Dependencies (Debian packages; prints the apt-get line if not root).
if [ $skip_deps = 0 ]; then
  log "checking dependencies (scripts/install-deps.sh)"
  "$root/scripts/install-deps.sh"
else
  steps=$((steps - 1))
fi
pybin=/usr/bin/python3   # Debian's, which has matplotlib and scipy
need() {  # need <what> <Debian package> <test command...>
  local what=$1 pkg=$2
  shift 2
  if ! "$@" >/dev/null 2>&1; then
    echo "run.sh: $what is missing: install the Debian package $pkg" \
         "(scripts/install-deps.sh does)" >&2
    exit 1
  fi
}
need "cmake" cmake command -v cmake
need "lstopo (hwloc)" hwloc command -v lstopo-no-graphics
need "matplotlib for $pybin" python3-matplotlib "$pybin" -c "import matplotlib"
need "scipy for $pybin" python3-scipy "$pybin" -c "import scipy.stats"
if [ $go = 1 ]; then
  need "Go (or pass --no-go)" golang-go command -v go
fi

# 2. Build the release preset: chanbench and what the README points to next.
build=$(realpath -m "${CHANLAB_BUILD_DIR:-$root/build/release}")
log "building chanbench, chanlab-demo and the peers in $build"
cmake --preset release -B "$build" -DCHAN_BUILD_BENCH=ON \
      -DCHAN_BENCH_ALLOCATOR="$allocator" >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target chanbench chanlab-demo
bench="$build/bench/chanbench"
if [ $go = 1 ]; then
  export GOCACHE="$build/go/cache" GOPATH="$build/go/path" GOFLAGS= GOPROXY=off
  export GOMAXPROCS=$(nproc)
  (cd "$root/bench/go" && go build -o "$build/go/gochan" .)
fi
# The Rust peers, built offline against Debian's crates; without them the
# run goes on and the reason is recorded (env.txt: rust_skipped).
rust_log=$(mktemp /tmp/chanlab-rust-build-XXXXXX)
trap 'rm -f "$rust_log"' EXIT
if [ $rust = 0 ]; then
  rust_skipped=${rust_skipped:-"left out (--no-rust, or --impl names none of crossbeam, flume, tokio)"}
else
  echo "building the Rust peers (bench/peers/rust: offline, Debian's crates)"
  if ! cmake --build "$build" --target chanpeers_rust >"$rust_log" 2>&1; then
    # build.sh names a missing cargo, rustc or crate registry; cargo a
    # missing crate.
    why=$(grep -E '^(build\.sh:|error)' "$rust_log" | head -1)
    rust_skipped="building it failed: ${why:-see peers-rust-build.log}"
  fi
  if [ -n "$rust_skipped" ]; then
    echo "run.sh: the Rust peers are skipped, $rust_skipped" >&2
    rust=0 steps=$((steps - 1))
  fi
fi
rust_bin="$build/bench/peers/rust/chanpeers"

# Check the selection before making a results folder.
common=()
[ $suite = full ] && common+=(--full)
[ -n "$repetitions" ] && common+=(--repetitions "$repetitions")
[ -n "$min_time" ] && common+=(--min-time "$min_time")
[ $filter_set = 1 ] && common+=(--filter "$filter")
[ -n "$scenario" ] && common+=(--scenario "$scenario")
[ "$background_load" != 0 ] && common+=(--background-load "$background_load")
bench_args=("${common[@]}")
for lib in "${impl_libs[@]}"; do bench_args+=(--impl-lib "$lib"); done
[ -n "$bench_impl" ] && bench_args+=(--impl "$bench_impl")
[ -n "$executor" ] && bench_args+=(--executor "$executor")
if [ $run_bench = 1 ]; then
  "$bench" "${bench_args[@]}" --list >/dev/null || exit 2
elif [ ${#impl_libs[@]} -gt 0 ]; then
  die "--impl-lib: its channels run in chanbench, and --impl '$impl' names none of chanbench's"
fi
# The implementations the --impl-lib libraries add (chanbench lists them
# as "chanlab (loaded)").
loaded_names=""
if [ ${#impl_libs[@]} -gt 0 ]; then
  loaded_names=$("$bench" "${bench_args[@]}" --list 2>/dev/null |
                 sed -n 's/^queue  *\([^ ]*\)  *chanlab (loaded).*/\1/p' | paste -sd, -)
  [ -n "$loaded_names" ] || die "--impl-lib: ${impl_libs[*]} registered no implementation"
fi

# 3. A fresh results folder (mkdir is atomic: two runs never share one).
host=$(hostname -s 2>/dev/null || hostname)
base="$results_base/$(date -u +%Y-%m-%d)-$host"
mkdir -p "$results_base"
out=$base n=1
until mkdir "$out" 2>/dev/null; do n=$((n + 1)); out="$base-$n"; done
echo "results in $out"

# The environment: machine, kernel, compiler and flags, allocator,
# topology, commit.
{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $host"
  echo "cpu_model: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "pus: $(nproc)"
  echo "kernel: $(uname -srvm)"
  echo "compiler: $(gcc --version | head -1)"
  echo "c_flags: $(sed -n 's/^CMAKE_C_FLAGS_RELEASE:[A-Z]*=//p' "$build/CMakeCache.txt") (release preset; plus -Wall -Wextra)"
  echo "cxx_compiler: $(g++ --version | head -1)"
  echo "allocator: $allocator"
  echo "google_benchmark: $(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null || echo unknown)"
  echo "hwloc: $(dpkg-query -W -f='${Version}' hwloc 2>/dev/null || echo unknown)"
  echo "go: $(go version 2>/dev/null || echo 'not installed')"
  echo "rust: $(/usr/bin/rustc --version 2>/dev/null || echo 'not installed')"
  [ -z "$rust_skipped" ] || echo "rust_skipped: $rust_skipped"
  if git rev-parse HEAD >/dev/null 2>&1; then
    echo "git_commit: $(git rev-parse HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
  else
    echo "git_commit: unknown (not a git checkout)"
  fi
  echo "suite: $suite"
  echo "background_load: $background_load"
  if [ ${#impl_libs[@]} -gt 0 ]; then
    echo "impl_lib: ${impl_libs[*]}"
    echo "impl_lib_names: $loaded_names"
  fi
  echo "command: $command_line"
  echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/env.txt"
lstopo-no-graphics --no-io --of xml "$out/topology.xml"
[ ! -s "$rust_log" ] || cp "$rust_log" "$out/peers-rust-build.log"
cat "$out/env.txt"

status=0
suite_ms=0
seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
timed() {  # timed <name> <command...>: runs it, records <name>_seconds
  local name=$1 t0 rc=0 ms
  shift
  t0=$(date +%s%N)
  "$@" || rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "${name}_seconds: $(seconds $ms)" >> "$out/env.txt"
  suite_ms=$((suite_ms + ms))
  return $rc
}

# 4. chanlab's implementations and the floors. Exit status 3: a benchmark
#    reported an error (the report lists it); anything else stops the run.
if [ $run_bench = 1 ]; then
  log "chanbench ($suite suite; $("$bench" "${bench_args[@]}" --list 2>/dev/null | tail -1))"
  limit=$([ $suite = full ] && echo 14400 || echo 1800)
  rc=0
  timed chanbench timeout "$limit" "$bench" "${bench_args[@]}" --out "$out/chanbench.json" \
    > >(tee "$out/chanbench.log") 2>&1 || rc=$?
  if [ $rc = 3 ]; then
    echo "run.sh: some benchmarks reported an error (see $out/chanbench.log and the report)" >&2
    status=1
  elif [ $rc != 0 ]; then
    echo "run.sh: chanbench failed (status $rc) or timed out after ${limit}s (log: $out/chanbench.log)" >&2
    exit 1
  fi
fi

# 5. Go's channels, same schema, same repetitions and filters.
if [ $go = 1 ]; then
  log "Go $(go version | cut -d' ' -f3) channels (GOMAXPROCS=$GOMAXPROCS)"
  rc=0
  timed go "$build/go/gochan" "${common[@]}" --out "$out/go.json" \
    > >(tee "$out/go.log") 2>&1 || rc=$?
  if [ $rc = 2 ] && [ $run_bench = 1 ]; then
    echo "run.sh: Go runs none of the selected benchmarks" >&2
    rm -f "$out/go.json"
  elif [ $rc != 0 ]; then
    echo "run.sh: Go's program failed (status $rc; log: $out/go.log)" >&2
    exit 1
  fi
fi

# 6. The Rust peers (crossbeam, flume, tokio), same schema, repetitions and
#    filters. A failure (a lost value) is recorded and the run goes on.
if [ $rust = 1 ]; then
  log "Rust peers: crossbeam-channel, flume and tokio ($(/usr/bin/rustc --version | cut -d' ' -f1-2))"
  rust_args=("${common[@]}")
  [ -n "$rust_impl" ] && rust_args+=(--impl "$rust_impl")
  rc=0
  timed rust "$rust_bin" "${rust_args[@]}" --out "$out/peers-rust.json" \
    > >(tee "$out/peers-rust.log") 2>&1 || rc=$?
  if [ $rc = 2 ] && { [ $run_bench = 1 ] || [ $go = 1 ]; }; then
    echo "run.sh: the Rust peers run none of the selected benchmarks" >&2
    rm -f "$out/peers-rust.json"
  elif [ $rc != 0 ]; then
    why=$(grep '^chanpeers:' "$out/peers-rust.log" | tail -1)
    echo "rust_failed: status $rc: ${why:-see peers-rust.log}" >> "$out/env.txt"
    echo "run.sh: the Rust peers failed (status $rc; log: $out/peers-rust.log)" >&2
    rm -f "$out/peers-rust.json"
    status=1
  fi
fi

# 7. The loaded pass (--loaded): the same rows again with one hog, in a
#    results folder of its own (loaded/: no benchmark name is in a folder
#    twice). The default rows are the fibers-against-Go shapes
#    (chanlab_results.py's GO_SHAPES) on chanlab's own implementations.
if [ $loaded = 1 ]; then
  log "loaded pass: the fibers-against-Go rows with one spinning hog on the last PU"
  mkdir "$out/loaded"
  cp "$out/topology.xml" "$out/loaded/"
  grep -v -e '^background_load:' -e '_seconds:' "$out/env.txt" > "$out/loaded/env.txt"
  echo "background_load: 1" >> "$out/loaded/env.txt"
  loaded_filter=$filter
  [ $filter_set = 1 ] || loaded_filter=$("$pybin" "$root/scripts/chanlab_results.py" --shapes-filter)
  loaded_args=(--background-load 1 --filter "$loaded_filter")
  [ $suite = full ] && loaded_args+=(--full)
  [ -n "$repetitions" ] && loaded_args+=(--repetitions "$repetitions")
  [ -n "$min_time" ] && loaded_args+=(--min-time "$min_time")
  [ -n "$scenario" ] && loaded_args+=(--scenario "$scenario")
  if [ $run_bench = 1 ]; then
    # chanlab's implementations (one a line of impls/registry.def) and
    # the --impl-lib ones.
    loaded_impl=${bench_impl:-$(sed -n 's/^CHAN_IMPL(\([a-z0-9_]*\)).*/\1/p' "$root/impls/registry.def" | paste -sd, -)${loaded_names:+,$loaded_names}}
    loaded_more=()
    [ -n "$executor" ] && loaded_more=(--executor "$executor")
    rc=0
    for lib in "${impl_libs[@]}"; do loaded_more+=(--impl-lib "$lib"); done
    timed loaded_chanbench "$bench" "${loaded_args[@]}" --impl "$loaded_impl" "${loaded_more[@]}" \
      --out "$out/loaded/chanbench.json" > "$out/loaded/chanbench.log" 2>&1 || rc=$?
    if [ $rc = 2 ]; then
      echo "run.sh: the loaded pass: chanbench runs none of the selected rows (log: $out/loaded/chanbench.log)" >&2
      rm -f "$out/loaded/chanbench.json"
    elif [ $rc != 0 ]; then
      echo "run.sh: the loaded pass: chanbench failed (status $rc; log: $out/loaded/chanbench.log)" >&2
      status=1
    fi
  fi
  if [ $go = 1 ]; then
    rc=0
    timed loaded_go "$build/go/gochan" "${loaded_args[@]}" --out "$out/loaded/go.json" \
      > "$out/loaded/go.log" 2>&1 || rc=$?
    if [ $rc = 2 ]; then
      echo "run.sh: the loaded pass: Go runs none of the selected rows" >&2
      rm -f "$out/loaded/go.json"
    elif [ $rc != 0 ]; then
      echo "run.sh: the loaded pass: Go's program failed (status $rc; log: $out/loaded/go.log)" >&2
      status=1
    fi
  fi
fi

# 8. Plots and the report page (with the loaded pass's comparison).
{
  echo "suite_seconds: $(seconds $suite_ms)"
  echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg)"
} >> "$out/env.txt"
log "plots and report"
"$pybin" "$root/scripts/plot.py" "$out"
echo "total_seconds: $(( $(date +%s) - started ))" >> "$out/env.txt"
"$pybin" "$root/scripts/report.py" "$out" ${baseline:+--baseline "$baseline"}
echo "done in $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s: $out/README.md"
exit $status
