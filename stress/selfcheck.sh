#!/usr/bin/env bash
# selfcheck.sh - proves the test suites have teeth. Each planted bug is a
# patch, stress/planted/<bug>.patch, whose header says what it breaks, the
# implementation to hunt it on, the build that shows it and the budget of
# the hunt (stress/README.md describes the format; the patches are the only
# list of planted bugs). For each patch the self-check applies it to a
# scratch copy of the sources, builds what the hunt needs, runs the hunters
# one after another on the bug's implementation until one fails, and
# reverts the patch. It passes only if
#   1. the control run is green: every program a hunt tries first passes
#      on every implementation with no patch applied (in the release build
#      with chaos mode on), so a catch is not noise; a program that catches
#      a bug without having been in the control gets its control run
#      afterwards; and
#   2. every patch is caught within its budget (build time not counted).
# It ends with a table: bug, implementation, build, the test that caught
# it, how, and seconds.
#
#   stress/selfcheck.sh <build-dir> [--only BUG]
#   stress/selfcheck.sh --check [<build-dir>]
#
# <build-dir> holds, per build kind, a scratch copy of the sources,
# src-<kind> (the source tree as it is, uncommitted changes included;
# only files that differ are copied, so builds stay incremental), and its
# build directory <kind>: release = the release preset with CHAN_CHAOS on,
# tsan = the tsan preset (for bugs that are only memory-ordering mistakes,
# which the suites' interleavings expose and ThreadSanitizer reports).
#
# --check only checks the patches: each header is complete and each patch
# still applies to the source tree (git apply --check); with a build
# directory, also that every hunter is a test program of that build. ctest
# runs it in the release preset (stress/planted_apply).
set -uo pipefail

usage() {
  echo "usage: stress/selfcheck.sh <build-dir> [--only BUG]" >&2
  echo "       stress/selfcheck.sh --check [<build-dir>]" >&2
  exit 2
}

src=$(cd "$(dirname "$0")/.." && pwd)
planted_dir=$src/stress/planted

# Seconds per stress test while hunting, and the watchdog per test (the
# same in the control, so that a catch by the watchdog is not just a slow
# test). A planted lost wake-up shows as a hang, so the watchdog bounds how
# long that takes.
hunt_seconds=0.5
declare -A watchdog=([release]=10 [tsan]=30)

# The stress drivers in their hunting order: stress/CMakeLists.txt's list.
mapfile -t drivers < <(sed -nE 's/^stress_driver\(([a-z0-9_]+).*/stress_\1/p' \
  "$src/stress/CMakeLists.txt")
[ ${#drivers[@]} -gt 0 ] || { echo "selfcheck: no stress_driver() in stress/CMakeLists.txt" >&2; exit 2; }
# The registered implementations: impls/registry.def's list.
mapfile -t impls < <(sed -nE 's/^CHAN_IMPL\(([a-z0-9_]+)\).*/\1/p' "$src/impls/registry.def")

# ---- patch headers ---------------------------------------------------------

# read_header PATCH: sets h_planted h_impl h_build h_budget h_what
# h_hunters from the `key: value` lines before the diff; prints what is
# wrong and returns 1 if the header is incomplete or malformed.
read_header() {
  local file=$1 name line key value bad=0 has_diff=0
  name=$(basename "$file" .patch)
  h_planted="" h_impl="" h_build="" h_budget="" h_what="" h_hunters=""
  h_executor=thread
  while IFS= read -r line; do
    case "$line" in
      "diff "* | "--- "*) has_diff=1; break ;;
      "" | "#"*) continue ;;
    esac
    key=${line%%:*}
    value=${line#*:}
    value=${value#"${value%%[! ]*}"} # trim leading blanks
    case "$key" in
      planted) h_planted=$value ;;
      impl) h_impl=$value ;;
      build) h_build=$value ;;
      budget) h_budget=$value ;;
      what) h_what=$value ;;
      hunters) h_hunters=$value ;;
      executor) h_executor=$value ;;
      *) echo "  $file: unknown header line '$line'"; bad=1 ;;
    esac
  done <"$file"
  [ $has_diff -eq 1 ] || { echo "  $file: no diff after the header"; bad=1; }
  [ "$h_planted" = "$name" ] ||
    { echo "  $file: 'planted: $h_planted' must name the file ($name)"; bad=1; }
  [[ " ${impls[*]} " == *" $h_impl "* ]] ||
    { echo "  $file: 'impl: $h_impl' is not a registered implementation (${impls[*]})"; bad=1; }
  [[ "$h_build" == release || "$h_build" == tsan ]] ||
    { echo "  $file: 'build: $h_build' must be release or tsan"; bad=1; }
  [[ "$h_budget" =~ ^[1-9][0-9]*$ ]] ||
    { echo "  $file: 'budget: $h_budget' must be a whole number of seconds"; bad=1; }
  [ -n "$h_what" ] || { echo "  $file: 'what:' is missing"; bad=1; }
  [[ "$h_executor" == thread || "$h_executor" == fiber || "$h_executor" == all ]] ||
    { echo "  $file: 'executor: $h_executor' must be thread, fiber or all"; bad=1; }
  [[ -z "$h_hunters" || "$h_hunters" =~ ^[A-Za-z0-9_\ ]+$ ]] ||
    { echo "  $file: 'hunters: $h_hunters' must be program names"; bad=1; }
  return $bad
}

shopt -s nullglob
patches=("$planted_dir"/*.patch)
shopt -u nullglob

# ---- --check: headers, applicability, hunters -----------------------------

if [ "${1:-}" = "--check" ]; then
  [ $# -le 2 ] || usage
  bin=${2:-}
  status=0
  [ ${#patches[@]} -gt 0 ] || { echo "selfcheck: no patches in $planted_dir" >&2; exit 1; }
  for p in "${patches[@]}"; do
    name=$(basename "$p" .patch)
    if ! read_header "$p" >&2; then
      echo "selfcheck: STALE $name: its header is incomplete (above)" >&2
      status=1
      continue
    fi
    if ! msg=$(cd "$src" && git apply --check "$p" 2>&1); then
      echo "selfcheck: STALE $name: stress/planted/$name.patch no longer applies to the tree; regenerate it (stress/README.md):" >&2
      echo "  ${msg//$'\n'/$'\n'  }" >&2
      status=1
      continue
    fi
    if [ -n "$bin" ]; then
      for h in $h_hunters; do
        if [ -z "$(find "$bin" -path "$bin/stress-selfcheck" -prune -o -type f -name "$h" \
          -perm -u+x ! -path '*/CMakeFiles/*' -print -quit)" ]; then
          echo "selfcheck: STALE $name: hunter '$h' is not a test program of $bin" >&2
          status=1
        fi
      done
    fi
    echo "selfcheck: $name applies ($h_impl, $h_build build, budget ${h_budget}s)"
  done
  [ $status -eq 0 ] && echo "selfcheck: all ${#patches[@]} patches apply"
  exit $status
fi

# ---- the hunt: arguments ---------------------------------------------------

[ $# -ge 1 ] || usage
case "$1" in -*) usage ;; esac
build_root=$1
shift
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
    *) echo "selfcheck: unknown argument '$1'" >&2; usage ;;
  esac
done
mkdir -p "$build_root" || exit 2
build_root=$(cd "$build_root" && pwd)
logs=$build_root/logs
mkdir -p "$logs"
rm -f "$logs"/*.log

export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0}

# The selected patches, with their headers.
declare -A P_impl P_build P_budget P_what P_hunters P_file P_executor
bugs=()
for p in "${patches[@]}"; do
  name=$(basename "$p" .patch)
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  if ! read_header "$p" >&2; then
    echo "selfcheck: $p: bad header" >&2
    exit 2
  fi
  bugs+=("$name")
  P_impl[$name]=$h_impl P_build[$name]=$h_build P_budget[$name]=$h_budget
  P_what[$name]=$h_what P_hunters[$name]=$h_hunters P_file[$name]=$p
  P_executor[$name]=$h_executor
done
if [ ${#bugs[@]} -eq 0 ]; then
  # shellcheck disable=SC2016 # the quotes are literal text
  echo "selfcheck: no planted bug ${only:+named '$only' }in $planted_dir" >&2
  exit 2
fi

# The programs a hunt tries, in order: its hunters, then the stress drivers.
hunt_order() {
  local d
  local -a out
  read -ra out <<<"${P_hunters[$1]}"
  for d in "${drivers[@]}"; do
    [[ " ${out[*]} " == *" $d "* ]] || out+=("$d")
  done
  echo "${out[@]}"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---- scratch trees and builds ----------------------------------------------

# The source tree's files: tracked and untracked ones, not ignored ones.
source_files() {
  if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$src" ls-files -z -co --exclude-standard
  else
    (cd "$src" && find . -path ./build -prune -o -type f -print0)
  fi
}

# sync_tree DEST: makes DEST a copy of the source tree, touching only the
# files that differ (and removing those that are gone), so a build there
# recompiles only what changed. Also undoes a patch left by an interrupted
# run.
sync_tree() {
  local dest=$1 f
  local -A keep=()
  mkdir -p "$dest"
  while IFS= read -r -d '' f; do
    f=${f#./}
    [ -f "$src/$f" ] || continue # deleted, not yet committed
    keep[$f]=1
    if ! cmp -s "$src/$f" "$dest/$f"; then
      mkdir -p "$dest/$(dirname "$f")" && cp "$src/$f" "$dest/$f" || return 1
    fi
  done < <(source_files)
  while IFS= read -r -d '' f; do
    f=${f#./}
    [ -n "${keep[$f]:-}" ] || rm -f "$dest/$f"
  done < <(cd "$dest" && find . -type f -print0)
}

# git apply in a scratch tree, which lies inside this repository's build
# directory: the ceiling keeps git from treating it as part of the
# repository (it would then skip paths outside the scratch directory).
scratch_apply() { # scratch_apply KIND [git apply args...]
  local kind=$1
  shift
  (cd "$build_root/src-$kind" && GIT_CEILING_DIRECTORIES=$build_root git apply "$@")
}

prepare() { # prepare KIND: sync its scratch tree, configure on first use
  local kind=$1 dir=$build_root/$1 extra=(-DCHAN_BUILD_BENCH=OFF -DCHAN_BUILD_TESTS=ON)
  sync_tree "$build_root/src-$kind" ||
    { echo "selfcheck: copying the sources to $build_root/src-$kind failed" >&2; exit 2; }
  [ -f "$dir/build.ninja" ] && return 0
  [ "$kind" = release ] && extra+=(-DCHAN_CHAOS=ON)
  (cd "$build_root/src-$kind" && cmake --preset "$kind" -B "$dir" "${extra[@]}") \
    >"$logs/configure-$kind.log" 2>&1 ||
    { echo "selfcheck: configuring $dir failed (see $logs/configure-$kind.log)" >&2; exit 2; }
}

# build KIND PROGRAM LOG: builds only PROGRAM (and what it needs) and
# prints its path; fails if it is not a target or does not build.
build() {
  local kind=$1 prog=$2 log=$3 dir=$build_root/$1
  cmake --build "$dir" -j2 --target "$prog" >>"$log" 2>&1 || return 1
  find "$dir" -type f -name "$prog" -perm -u+x ! -path '*/CMakeFiles/*' -print -quit
}

# run KIND BIN LOG [args...]: one hunter or control run. Stress drivers
# get the hunting budget per test; every program gets the watchdog and
# stops at its first failing test.
run() {
  local kind=$1 bin=$2 log=$3 args=(--timeout "${watchdog[$1]}" --fail-fast)
  shift 3
  [[ "$(basename "$bin")" == stress_* ]] && args+=(--seconds "$hunt_seconds")
  "$bin" "${args[@]}" "$@" >"$log" 2>&1
}

# How a failed run failed, and in which test, from its log: the first
# failing test's section (from its [ RUN  ] line to its [ FAIL ] line).
describe() {
  local log=$1 rc=$2 section test how
  test=$(sed -nE 's/^\[ FAIL \] ([^/]+)\/.*/\1/p' "$log" | head -1)
  if [ -n "$test" ]; then
    section=$(awk -v t="$test" '
      $0 ~ "^\\[ RUN  \\] " t "/" { buf = ""; on = 1 }
      on { buf = buf $0 "\n" }
      $0 ~ "^\\[ FAIL \\] " t "/" { printf "%s", buf; exit }' "$log")
  else
    section=$(cat "$log")
    test=$(sed -nE 's/^\[ RUN  \] ([^/]+)\/.*/\1/p' "$log" | tail -1)
  fi
  if grep -q "WARNING: ThreadSanitizer" <<<"$section"; then
    how="TSan: $(grep -m1 'WARNING: ThreadSanitizer' <<<"$section" |
      sed 's/.*WARNING: ThreadSanitizer: //; s/ (pid.*//')"
  elif grep -q "^WATCHDOG:" <<<"$section"; then
    how="hang (watchdog)"
  elif grep -q "^CRASH:" <<<"$section"; then
    how=$(grep -m1 "^CRASH:" <<<"$section" | sed -E 's/.* died of (signal [0-9]+ \([^)]*\)).*/crash: \1/')
  elif grep -q "^  FAIL " <<<"$section"; then
    how=$(grep -m1 "^  FAIL " <<<"$section" | sed 's/^  FAIL [^ ]*: //; s/ \[test .*//' | cut -c1-90)
  elif grep -q "^EXIT:" <<<"$section"; then
    how=$(grep -m1 "^EXIT:" <<<"$section" | sed -E 's/^EXIT: test [^ ]+ on impl [^ ]+: //; s/ \(seed.*//' | cut -c1-90)
  else
    how="exit status $rc"
  fi
  echo "${test:-?}|$how"
}

status=0
start_all=$(now)

kinds=()
for b in "${bugs[@]}"; do
  [[ " ${kinds[*]} " == *" ${P_build[$b]} "* ]] || kinds+=("${P_build[$b]}")
done

echo "selfcheck: ${#bugs[@]} planted bug(s); scratch trees and builds under $build_root"
for kind in "${kinds[@]}"; do prepare "$kind"; done

# ---- 1. the control ---------------------------------------------------------

declare -A controlled # "kind prog executor" -> pass | FAIL
control() { # control KIND PROG EXECUTOR: every implementation, no patch
  local kind=$1 prog=$2 exec=$3 bin log=$logs/control-$1-$2-$3.log
  [ -n "${controlled["$kind $prog $exec"]:-}" ] && return 0
  if ! bin=$(build "$kind" "$prog" "$logs/build-control-$kind.log"); then
    echo "selfcheck: CONTROL FAILED: $prog does not build in the $kind build (see $logs/build-control-$kind.log)" >&2
    controlled["$kind $prog $exec"]=FAIL
    status=1
    return 1
  fi
  if run "$kind" "$bin" "$log" --executor "$exec"; then
    controlled["$kind $prog $exec"]=pass
  else
    echo "selfcheck: CONTROL FAILED: $prog fails in the $kind build with no bug planted (see $log)" >&2
    controlled["$kind $prog $exec"]=FAIL
    status=1
  fi
}

echo "selfcheck: control run (no bug planted; chaos mode in the release build) ..."
t0=$(now)
for b in "${bugs[@]}"; do
  read -ra first <<<"${P_hunters[$b]}"
  [ ${#first[@]} -gt 0 ] || first=("${drivers[@]}")
  for prog in "${first[@]}"; do
    control "${P_build[$b]}" "$prog" "${P_executor[$b]}"
  done
done
[ $status -eq 0 ] && echo "selfcheck: control run green ($(elapsed "$t0" "$(now)")s)"

# ---- 2. the hunts ----------------------------------------------------------

results=()
late_control=() # "kind prog" pairs that caught a bug outside the control
for bug in "${bugs[@]}"; do
  impl=${P_impl[$bug]} kind=${P_build[$bug]} budget=${P_budget[$bug]}
  echo "selfcheck: hunting $bug ($impl, $kind build, budget ${budget}s): ${P_what[$bug]}"
  blog=$logs/build-$bug.log
  if ! scratch_apply "$kind" "${P_file[$bug]}" >"$blog" 2>&1; then
    echo "selfcheck: $bug: the patch does not apply (see $blog)" >&2
    results+=("$bug|$impl|$kind|-|-|patch does not apply|-|-")
    status=1
    continue
  fi
  hunt=0 builds=0 caught=""
  for prog in $(hunt_order "$bug"); do
    tb=$(now)
    if ! bin=$(build "$kind" "$prog" "$blog"); then
      echo "selfcheck: $bug: $prog does not build with the patch (see $blog)" >&2
      caught="$prog|-|build failed"
      status=1
      break
    fi
    t1=$(now)
    builds=$(awk -v s="$builds" -v a="$tb" -v b="$t1" 'BEGIN { print s + b - a }')
    log=$logs/$bug-$prog.log
    run "$kind" "$bin" "$log" --impl "$impl" --executor "${P_executor[$bug]}"
    rc=$?
    hunt=$(awk -v s="$hunt" -v a="$t1" -v b="$(now)" 'BEGIN { print s + b - a }')
    if [ $rc -ne 0 ]; then
      caught="$prog|$(describe "$log" $rc)"
      [ -n "${controlled["$kind $prog ${P_executor[$bug]}"]:-}" ] ||
        late_control+=("$kind $prog ${P_executor[$bug]}")
      break
    fi
    # Passed: the bug was not reached or not noticed here; next program.
    awk -v t="$hunt" -v b="$budget" 'BEGIN { exit !(t >= b) }' && break
  done
  if ! scratch_apply "$kind" -R "${P_file[$bug]}" >>"$blog" 2>&1; then
    echo "selfcheck: $bug: reverting the patch failed; re-copying the sources" >&2
    sync_tree "$build_root/src-$kind" || exit 2
  fi
  hunt=$(printf '%.1f' "$hunt") builds=$(printf '%.1f' "$builds")
  if [ -z "$caught" ]; then
    echo "selfcheck: NOT CAUGHT: $bug on $impl within ${hunt}s (logs: $logs/$bug-*.log)" >&2
    results+=("$bug|$impl|$kind|-|-|NOT CAUGHT|$hunt|$builds")
    status=1
    continue
  fi
  IFS='|' read -r prog test how <<<"$caught"
  results+=("$bug|$impl|$kind|$prog|$test|$how|$hunt|$builds")
  if awk -v t="$hunt" -v b="$budget" 'BEGIN { exit !(t > b) }'; then
    echo "selfcheck: $bug caught only after ${hunt}s, budget ${budget}s" >&2
    status=1
  elif [ "$test" != "-" ]; then
    echo "selfcheck:   caught by $prog/$test: $how (${hunt}s hunting, ${builds}s building)"
  fi
done

# A catch by a program that was not in the control run counts only if that
# program passes without the bug; the scratch trees are clean again now.
for kp in "${late_control[@]}"; do
  read -r kind prog exec <<<"$kp"
  echo "selfcheck: control run of $prog ($exec) in the $kind build (it caught a bug) ..."
  control "$kind" "$prog" "$exec"
done

echo
printf '%-34s %-6s %-8s %-52s %7s %7s  %s\n' bug impl build "caught by" hunt-s build-s how
for r in "${results[@]}"; do
  IFS='|' read -r bug impl kind prog test how hunt builds <<<"$r"
  by="$prog/$test"
  [ "$prog" = "-" ] && by="-"
  [ "${controlled["$kind $prog"]:-}" = FAIL ] && how="$how (CONTROL FAILED: noise)"
  printf '%-34s %-6s %-8s %-52s %7s %7s  %s\n' "$bug" "$impl" "$kind" "$by" "$hunt" "$builds" "$how"
done
echo "selfcheck: $(elapsed "$start_all" "$(now)")s in all"
if [ $status -eq 0 ]; then
  echo "selfcheck: PASSED: every planted bug was caught"
else
  echo "selfcheck: FAILED" >&2
fi
exit $status
