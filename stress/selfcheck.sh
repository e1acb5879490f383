#!/usr/bin/env bash
# selfcheck.sh - proves the stress suite has teeth: builds the library with
# the planted bugs compiled in (impls/, behind CHAN_PLANTED("name"), off
# unless CHAN_PLANT=name), then, for each planted bug, runs the stress
# drivers one after another against the bug's implementation until one
# fails. It passes only if
#   1. the suite is green with no bug planted (chaos mode on), so a catch
#      is not noise, and
#   2. every planted bug is caught within its budget.
# It ends with a table: bug, build, the test that caught it, how, and how
# many seconds the hunt took.
#
#   stress/selfcheck.sh <build-dir> [--only BUG] [--keep-going]
#
# <build-dir> receives two builds (configured on first use, rebuilt every
# run): <build-dir>/release (release preset, CHAN_PLANTED_BUGS and
# CHAN_CHAOS on) and <build-dir>/tsan (tsan preset, CHAN_PLANTED_BUGS on),
# the latter for bugs that are only memory-ordering mistakes, which the
# suite's interleavings expose and ThreadSanitizer reports.
set -uo pipefail

usage() {
  echo "usage: stress/selfcheck.sh <build-dir> [--only BUG] [--keep-going]" >&2
  exit 2
}

[ $# -ge 1 ] || usage
case "$1" in -*) usage ;; esac
build_root=$1
shift
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
    --keep-going) shift ;; # accepted for symmetry; every bug is always hunted
    *) echo "selfcheck.sh: unknown argument '$1'" >&2; usage ;;
  esac
done

src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build_root" || exit 2
build_root=$(cd "$build_root" && pwd)
logs=$build_root/logs
mkdir -p "$logs"

# The order the drivers run in when hunting; the same for every bug.
drivers=(conservation fifo close timeout select capacity churn hb oversub patterns)

# bug : implementation : build : budget in seconds for the whole hunt.
bugs=(
  "futex.buffer_lifo:futex:release:90"
  "futex.close_skips_senders:futex:release:90"
  "futex.timeout_stays_queued:futex:release:90"
  "futex.wake_relaxed:futex:tsan:120"
  "mutex.select_unlocked_ready:mutex:release:90"
  "mutex.recv_forgets_blocked_sender:mutex:release:90"
  "mutex.close_no_signal:mutex:release:90"
  "mutex.destroy_leaks:mutex:release:120"
  "ring.recv_frees_slot_early:ring:release:90"
  "ring.notify_skips_last_slot:ring:release:90"
  "ring.ready_ignores_close:ring:release:90"
  "ring.publish_relaxed:ring:tsan:120"
)

# Seconds per test while hunting, and the watchdog per test. A planted
# lost wake-up shows as a hang, so the watchdog bounds how long that takes.
hunt_seconds=0.5
declare -A watchdog=([release]=10 [tsan]=30)

export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0}

build() {
  local kind=$1 dir=$build_root/$1
  local targets=()
  for d in "${drivers[@]}"; do targets+=("stress_$d"); done
  if [ ! -f "$dir/build.ninja" ]; then
    local extra=(-DCHAN_PLANTED_BUGS=ON -DCHAN_BUILD_TESTS=OFF -DCHAN_BUILD_BENCH=OFF)
    [ "$kind" = release ] && extra+=(-DCHAN_CHAOS=ON)
    (cd "$src" && cmake --preset "$kind" -B "$dir" "${extra[@]}") \
      >"$logs/configure-$kind.log" 2>&1 ||
      { echo "selfcheck: configuring $dir failed (see $logs/configure-$kind.log)" >&2; exit 2; }
  fi
  cmake --build "$dir" -j2 --target "${targets[@]}" >"$logs/build-$kind.log" 2>&1 ||
    { echo "selfcheck: building $dir failed (see $logs/build-$kind.log)" >&2; exit 2; }
}

# How a failed run failed, and in which test, from its log.
describe() {
  local log=$1 rc=$2 test how
  if grep -q "WARNING: ThreadSanitizer" "$log"; then
    how="TSan: $(grep -m1 'WARNING: ThreadSanitizer' "$log" | sed 's/WARNING: ThreadSanitizer: //; s/ (pid.*//')"
    test=$(grep -E '^\[ RUN  \]' "$log" | tail -1 | awk '{print $4}' | cut -d/ -f1)
  elif grep -q "^WATCHDOG:" "$log"; then
    how="hang (watchdog)"
    test=$(grep -m1 "^WATCHDOG:" "$log" | awk '{print $3}')
  elif grep -q "  FAIL " "$log"; then
    how=$(grep -m1 "  FAIL " "$log" | sed 's/.*: \([^:]*\) \[test.*/\1/' | cut -c1-90)
    test=$(grep -m1 "  FAIL " "$log" | sed 's/.*\[test \([^,]*\),.*/\1/')
  elif [ "$rc" -gt 128 ]; then
    how="crash (signal $((rc - 128)))"
    test=$(grep -E '^\[ RUN  \]' "$log" | tail -1 | awk '{print $4}' | cut -d/ -f1)
  else
    how="exit status $rc"
    test=$(grep -E '^\[ RUN  \]' "$log" | tail -1 | awk '{print $4}' | cut -d/ -f1)
  fi
  echo "${test:-?}|$how"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

status=0
start_all=$(now)
echo "selfcheck: building planted builds under $build_root"
build release
build tsan

# 1. The control: nothing planted, chaos on; every driver on every
#    implementation must pass.
echo "selfcheck: control run (no bug planted, chaos mode) ..."
for d in "${drivers[@]}"; do
  log=$logs/control-$d.log
  if ! "$build_root/release/stress/stress_$d" --seconds "$hunt_seconds" \
      --timeout 60 >"$log" 2>&1; then
    echo "selfcheck: CONTROL FAILED: stress_$d fails with no bug planted (see $log)" >&2
    status=1
  fi
done
for d in conservation hb; do
  log=$logs/control-tsan-$d.log
  if ! "$build_root/tsan/stress/stress_$d" --seconds "$hunt_seconds" \
      --timeout 120 >"$log" 2>&1; then
    echo "selfcheck: CONTROL FAILED: TSan stress_$d fails with no bug planted (see $log)" >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "selfcheck: control run green"

# 2. The hunts.
results=()
for entry in "${bugs[@]}"; do
  IFS=: read -r bug impl kind budget <<<"$entry"
  [ -n "$only" ] && [ "$bug" != "$only" ] && continue
  echo "selfcheck: hunting $bug ($impl, $kind build, budget ${budget}s) ..."
  t0=$(now)
  caught=""
  for d in "${drivers[@]}"; do
    log=$logs/$bug-$d.log
    t1=$(now)
    CHAN_PLANT=$bug "$build_root/$kind/stress/stress_$d" --impl "$impl" \
      --seconds "$hunt_seconds" --timeout "${watchdog[$kind]}" >"$log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
      caught="$d|$(describe "$log" $rc)|$(elapsed "$t1" "$(now)")"
      break
    fi
    # Passed: the bug was not reached or not noticed here; next driver.
    [ "$(elapsed "$t0" "$(now)" | cut -d. -f1)" -ge "$budget" ] && break
  done
  total=$(elapsed "$t0" "$(now)")
  if [ -z "$caught" ]; then
    echo "selfcheck: NOT CAUGHT: $bug on $impl within ${total}s (logs: $logs/$bug-*.log)" >&2
    results+=("$bug|$impl|$kind|NOT CAUGHT|-|-|-|$total")
    status=1
  elif awk -v t="$total" -v b="$budget" 'BEGIN { exit !(t > b) }'; then
    echo "selfcheck: $bug caught only after ${total}s, budget ${budget}s" >&2
    results+=("$bug|$impl|$kind|$caught|$total")
    status=1
  else
    IFS='|' read -r d test how secs <<<"$caught"
    echo "selfcheck:   caught by stress_$d/$test: $how (${secs}s in that driver, ${total}s in all)"
    results+=("$bug|$impl|$kind|$caught|$total")
  fi
done

echo
printf '%-34s %-6s %-8s %-13s %-38s %7s  %s\n' bug impl build driver test seconds how
for r in "${results[@]}"; do
  IFS='|' read -r bug impl kind d test how secs total <<<"$r"
  printf '%-34s %-6s %-8s %-13s %-38s %7s  %s\n' "$bug" "$impl" "$kind" "$d" "$test" "$total" "$how"
done
echo "selfcheck: $(elapsed "$start_all" "$(now)")s in all"
if [ $status -eq 0 ]; then
  echo "selfcheck: PASSED: every planted bug was caught"
else
  echo "selfcheck: FAILED" >&2
fi
exit $status
