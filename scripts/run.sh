#!/usr/bin/env bash
# run.sh - chanlab's first command: install what is missing, build the
# release preset, run the benchmark suite (quick by default) with Go's
# channels and the hardware floor in the same run, and write
# results/<date>-<host>[-N]/ with the JSON, the environment, plots and a
# README.md report. An earlier run is never overwritten.
#
#   scripts/run.sh [--quick|--full] [--no-go] [--allocator=jemalloc|system]
#                  [--min-time=SECONDS] [--filter=REGEX] [--impl=a,b]
#                  [--scenario=a,b] [--results=DIR] [--skip-deps] [--help]
#
# Environment: CHANLAB_BUILD_DIR (default build/release), JOBS (default 2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}

suite=quick go=1 allocator=jemalloc min_time="" filter="" impl="" scenario=""
results_base="$root/results" skip_deps=0
for arg in "$@"; do
  case "$arg" in
    --quick) suite=quick ;;
    --full) suite=full ;;
    --no-go) go=0 ;;
    --allocator=jemalloc|--allocator=system) allocator=${arg#*=} ;;
    --min-time=*) min_time=${arg#*=} ;;
    --filter=*) filter=${arg#*=} ;;
    --impl=*) impl=${arg#*=} ;;
    --scenario=*) scenario=${arg#*=} ;;
    --results=*) results_base=${arg#*=} ;;
    --skip-deps) skip_deps=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -n "$min_time" ] && ! [[ "$min_time" =~ ^[0-9]*\.?[0-9]+$ ]]; then
  echo "run.sh: --min-time wants a number of seconds, not '$min_time'" >&2
  exit 2
fi
[ -n "$min_time" ] || { [ $suite = full ] && min_time=0.5 || min_time=0.1; }

log() { printf '\n== %s\n' "$*"; }

# 1. Dependencies (Debian packages; prints the apt-get line if not root).
if [ $skip_deps = 0 ]; then
  log "checking dependencies (scripts/install-deps.sh)"
  "$root/scripts/install-deps.sh"
fi
pybin=/usr/bin/python3   # Debian's, which has matplotlib (not a pyenv one)
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
need "Google Benchmark's compare tools" libbenchmark-tools test -f /usr/share/benchmark/compare.py
if [ $go = 1 ]; then
  need "Go (or pass --no-go)" golang-go command -v go
fi

# 2. Build the release preset.
build=$(realpath -m "${CHANLAB_BUILD_DIR:-$root/build/release}")
log "building chanbench in $build"
cmake --preset release -B "$build" -DCHAN_BUILD_BENCH=ON \
      -DCHAN_BENCH_ALLOCATOR="$allocator" >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target chanbench
bench="$build/bench/chanbench"

# 3. A fresh results folder (mkdir is atomic: two runs never share one).
host=$(hostname -s 2>/dev/null || hostname)
base="$results_base/$(date -u +%Y-%m-%d)-$host"
mkdir -p "$results_base"
out=$base n=1
until mkdir "$out" 2>/dev/null; do n=$((n + 1)); out="$base-$n"; done
log "results in $out"

# 4. The environment: machine, kernel, compiler and flags, allocator,
#    topology, commit.
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
  if git rev-parse HEAD >/dev/null 2>&1; then
    echo "git_commit: $(git rev-parse HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
  else
    echo "git_commit: unknown (not a git checkout)"
  fi
  echo "suite: $suite"
  echo "min_time_s: $min_time"
  echo "command: scripts/run.sh $*"
  echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/env.txt"
lstopo-no-graphics --no-io --of xml "$out/topology.xml"
cat "$out/env.txt"

# 5. chanlab's implementations and the floor.
log "chanbench ($suite suite)"
args=("--$suite" "--benchmark_min_time=$min_time"
      "--benchmark_out=$out/chanbench.json" "--benchmark_out_format=json")
[ -n "$filter" ] && args+=("--benchmark_filter=$filter")
[ -n "$impl" ] && args+=("--impl=$impl")
[ -n "$scenario" ] && args+=("--scenario=$scenario")
[ $suite = full ] && args+=("--benchmark_repetitions=3")
limit=$([ $suite = full ] && echo 14400 || echo 1800)
if ! timeout "$limit" "$bench" "${args[@]}" 2>&1 | tee "$out/chanbench.log"; then
  echo "run.sh: chanbench failed or timed out after ${limit}s (log: $out/chanbench.log)" >&2
  exit 1
fi

# 6. Go's channels, same schema. Built offline; caches under the build dir.
if [ $go = 1 ]; then
  log "Go $(go version | cut -d' ' -f3) channels (GOMAXPROCS=$(nproc))"
  export GOCACHE="$build/go/cache" GOPATH="$build/go/path" GOFLAGS= GOPROXY=off
  export GOMAXPROCS=$(nproc)
  (cd "$root/bench/go" && go build -o "$build/go/gochan" .)
  goargs=(-out "$out/go.json" -min_time "$min_time")
  [ $suite = full ] && goargs+=(-full)
  "$build/go/gochan" "${goargs[@]}" 2>&1 | tee "$out/go.log"
fi

# 7. Plots and the report page.
echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/env.txt"
log "plots and report"
"$pybin" "$root/scripts/plot.py" "$out"
"$pybin" "$root/scripts/report.py" "$out"
log "done: $out/README.md"
