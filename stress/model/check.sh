#!/usr/bin/env bash
# check.sh - model-checks the park/wake protocol with spin: every model must
# verify with no error (no assertion violation, no invalid end state: no
# lost wake-up, no deadlock), and every variant that carries a planted bug
# must fail, which shows the model can see such bugs at all.
#
#   stress/model/check.sh <work-dir>
#
# Needs spin (Debian package spin) and gcc. Takes about 30 s of CPU (the
# runs one at a time) and 400 MB.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: stress/model/check.sh <work-dir>" >&2; exit 2; }
command -v spin >/dev/null || { echo "check.sh: spin not found (install the Debian package spin: scripts/install-deps.sh)" >&2; exit 2; }
model_dir=$(cd "$(dirname "$0")" && pwd)
work=$1
mkdir -p "$work" || exit 2

status=0
# model : spin flags : expect (pass | fail) : what it shows
runs=(
  "ring_park.pml::pass:ring parking with a concurrent close"
  "ring_park.pml:-DNO_CLOSE:pass:ring parking, no close to rescue a lost notification"
  "hchan_park.pml::pass:hchan (futex) handoff parking with timeouts and close"
  "ring_park.pml:-DFIBERS=3:pass:ring, fiber receivers (timer), with a close"
  "ring_park.pml:-DFIBERS=3 -DNO_CLOSE:pass:ring, fiber receivers (timer), no close"
  "hchan_park.pml:-DFIBERS=15:pass:hchan, fiber senders and receivers (timers)"
  "hchan_park.pml:-DFIBERS=6:pass:hchan, a thread and a fiber on each side"
  "fiber_join.pml::pass:fiber join, a thread joiner"
  "fiber_join.pml:-DFIBERS=1:pass:fiber join, a fiber joiner"
  "ring_park.pml:-DBUG_READY_IGNORES_CLOSE:fail:planted ring.ready_ignores_close"
  "ring_park.pml:-DBUG_NOTIFY_SKIPPED -DNO_CLOSE:fail:planted ring.notify_skips_last_slot"
  "hchan_park.pml:-DBUG_CLOSE_SKIPS_SENDERS:fail:planted futex.close_skips_senders"
  "ring_park.pml:-DRING_READY_TAIL_FIRST -DNO_CLOSE:fail:ring ready() loading tail first (the bug this model found)"
  "hchan_park.pml:-DFIBERS=15 -DBUG_PARK_COMMIT_NOT_ATOMIC:fail:planted fiber.park_commit_not_atomic"
  "hchan_park.pml:-DFIBERS=15 -DBUG_READY_TWICE:fail:planted fiber.ready_twice"
  "hchan_park.pml:-DFIBERS=15 -DBUG_TIMER_CLAIMS_UNLOCKED:fail:a timer claiming outside its heap lock"
  "fiber_join.pml:-DFIBERS=1 -DBUG_PARK_COMMIT_NOT_ATOMIC:fail:fiber.park_commit_not_atomic, seen by a joiner"
)
n=0
for r in "${runs[@]}"; do
  IFS=: read -r model flags expect what <<<"$r"
  n=$((n + 1))
  dir=$work/run$n
  rm -rf "$dir" && mkdir -p "$dir" && cp "$model_dir"/*.pml "$dir"/
  # A variant that must fail stops at its first error, after a few thousand
  # states: not worth optimizing its pan (-O1 triples the compile time).
  opt=-O1
  [ "$expect" = fail ] && opt=-O0
  # shellcheck disable=SC2086
  if ! (cd "$dir" && spin $flags -a "$model" >spin.log 2>&1 &&
        gcc $opt -DSAFETY -DCOLLAPSE -w -o pan pan.c >gcc.log 2>&1); then
    echo "check.sh: FAILED to build $model $flags (see $dir)" >&2
    status=1
    continue
  fi
  start=$(date +%s.%N)
  (cd "$dir" && ./pan -m1000000 >pan.log 2>&1)
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  errors=$(grep -oE "errors: [0-9]+" "$dir/pan.log" | awk '{print $2}')
  states=$(grep -oE "^ *[0-9]+ states, stored" "$dir/pan.log" | awk '{print $1}')
  if [ -z "$errors" ]; then
    echo "check.sh: $model $flags: pan did not finish (see $dir/pan.log)" >&2
    status=1
  elif [ "$expect" = pass ] && [ "$errors" -ne 0 ]; then
    echo "check.sh: FAIL: $what ($model $flags): $errors error(s):" >&2
    grep -E "^pan:" "$dir/pan.log" | head -3 >&2
    echo "  counterexample: cd $dir && spin $flags -t -p $model" >&2
    status=1
  elif [ "$expect" = fail ] && [ "$errors" -eq 0 ]; then
    echo "check.sh: FAIL: $what ($model $flags) was not detected" >&2
    status=1
  else
    printf 'check.sh: ok   %-58s %9s states  %5ss  (%s)\n' "$what" "$states" "$secs" \
      "$([ "$expect" = pass ] && echo "no error" || echo "bug found, as it must be")"
  fi
done
exit $status
