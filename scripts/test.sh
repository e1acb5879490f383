#!/usr/bin/env bash
# test.sh - runs every test: builds the release, asan and tsan presets and
# runs ctest in each (unit tests, pattern tests, bounded stress, placement
# and benchmark command-line tests, the planted-bug self-check and the spin
# model where they apply). Fails on any test failure and on any sanitizer
# report. With --impl-lib it also runs every check a loaded implementation
# takes (the core suites on both executors and every stress driver:
# build/<preset>/impl_checks.txt) on each implementation the library
# registers; with --mutant, on a deliberately broken build of it, which
# some check must fail (the planted-bug self-check, for your own bugs).
#
# usage: scripts/test.sh [options] [PRESET...]   (--x=v and --x v both work)
#   -p, --preset LIST   presets to build and test, comma-separated: release,
#                       debug, asan, tsan (default release,asan,tsan; also
#                       accepted as arguments)
#   -l, --impl-lib [PRESET=]PATH
#                       your implementation (a chan/impl.h shared object),
#                       checked in every preset, or only in PRESET
#                       (repeatable: a sanitizer-built copy per preset; tsan
#                       needs one built with -fsanitize=thread, asan checks
#                       more of one built with -fsanitize=address; README,
#                       "Your own implementation")
#   -m, --mutant [PRESET=]PATH
#                       a planted-bug build of your implementation (as
#                       --impl-lib; repeatable): every check runs on it and
#                       at least one must fail, else test.sh fails; the
#                       checks that caught it are listed (a hang after
#                       30 s, 60 under a sanitizer)
#   -o, --loaded-only   with --impl-lib or --mutant: skip ctest, run only
#                       the checks of the loaded implementations
#   -j, --jobs N        parallel build jobs and loaded checks (default: the
#                       number of PUs)
#   -h, --help          this help
# All three presets take about 19 minutes on 2 cores (19.2 measured from
# a clean clone, builds included, 2026-12-07; most of it in the release
# preset; the --impl-lib checks add about 1 minute per preset;
# while other builds ran it takes longer).
set -euo pipefail
caller_dir=$PWD
cd "$(dirname "$0")/.."

usage() { sed -n '/^# usage:/,/^# while other builds ran/p' "$0" | sed 's/^# \{0,1\}//'; }
parsed=$(getopt -n test.sh -o p:l:m:oj:h -l preset:,impl-lib:,mutant:,loaded-only,jobs:,help -- "$@") ||
  { echo "(scripts/test.sh --help lists the flags)" >&2; exit 2; }
eval set -- "$parsed"
presets=() impl_libs=() mutants=() loaded_only=0 jobs=$(nproc)
while true; do
  case "$1" in
    -p|--preset) IFS=, read -r -a more <<<"$2"; presets+=("${more[@]}"); shift 2 ;;
    -l|--impl-lib) impl_libs+=("$2"); shift 2 ;;
    -m|--mutant) mutants+=("$2"); shift 2 ;;
    -o|--loaded-only) loaded_only=1; shift ;;
    -j|--jobs) jobs=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
  esac
done
presets+=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(release asan tsan)
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "test.sh: --jobs wants a whole number, not '$jobs'" >&2; exit 2; }
for p in "${presets[@]}"; do
  case "$p" in
    release|debug|asan|tsan) ;;
    *) echo "test.sh: unknown preset '$p' (release, debug, asan, tsan)" >&2; exit 2 ;;
  esac
done

[ $loaded_only = 0 ] || [ $((${#impl_libs[@]} + ${#mutants[@]})) -gt 0 ] ||
  { echo "test.sh: --loaded-only checks the --impl-lib and --mutant libraries; none given" >&2; exit 2; }

# --impl-lib and --mutant: "PRESET=PATH" or "PATH" (every preset); paths
# as the caller gave them, relative to where test.sh was started.
lib_presets=() lib_paths=() lib_roles=()
add_libs() {  # add_libs ROLE OPTION ARG...
  local role=$1 option=$2 arg lp path
  shift 2
  for arg in "$@"; do
    lp=all path=$arg
    if [[ "$arg" =~ ^(release|debug|asan|tsan)=(.+)$ ]]; then
      lp=${BASH_REMATCH[1]} path=${BASH_REMATCH[2]}
    fi
    [[ "$path" = /* ]] || path=$caller_dir/$path
    [ -f "$path" ] || { echo "test.sh: $option: no such file '$path'" >&2; exit 2; }
    lib_presets+=("$lp") lib_paths+=("$path") lib_roles+=("$role")
  done
}
add_libs pass --impl-lib "${impl_libs[@]}"
add_libs fail --mutant "${mutants[@]}"
# The libraries checked in preset $1, one per line: "ROLE PATH" (pass: an
# implementation; fail: a mutant).
libs_for() {
  local i
  for i in "${!lib_paths[@]}"; do
    case "${lib_presets[$i]}" in all|"$1") echo "${lib_roles[$i]} ${lib_paths[$i]}" ;; esac
  done
}
for p in "${presets[@]}"; do
  [ "$p" = tsan ] || continue
  while read -r role lib; do
    [ -n "$lib" ] || continue
    option=$([ "$role" = pass ] && echo --impl-lib || echo --mutant)
    # An uninstrumented library under ThreadSanitizer: its accesses are
    # invisible and its own synchronization (futexes, fences) unseen, so
    # the run would report races that are not there and miss real ones.
    nm -D "$lib" 2>/dev/null | grep -q '__tsan_' || {
      echo "test.sh: $option $lib is not built with -fsanitize=thread; the" \
           "tsan preset needs one that is ($option tsan=PATH; README, \"Your" \
           "own implementation\"), or leave tsan out (--preset release,asan)" >&2
      exit 2
    }
  done < <(libs_for tsan)
done

scripts/install-deps.sh

# check_loaded PRESET ROLE LIB: every line of build/PRESET/impl_checks.txt
# on every implementation LIB registers, $jobs at a time, logs under
# build/PRESET/Testing/impl-lib/ (a mutant's under impl-lib-mutant/, where
# a sanitizer report is a catch, not a failure). ROLE pass: one PASS or
# FAIL line per check, fails if any check fails. ROLE fail (a mutant): one
# CAUGHT or passed line per check, fails if no check fails. Both fail if
# LIB does not load or registers nothing.
check_loaded() {
  local p=$1 role=$2 lib=$3 dir="$PWD/build/$1/Testing/impl-lib" base
  # A mutant's hang is caught by a shorter watchdog than ctest's (the
  # checks take seconds; a sanitizer slows them down a few times).
  local watchdog=()
  if [ "$role" = fail ]; then
    dir+=-mutant
    case "$p" in asan|tsan) watchdog=(--timeout 60) ;; *) watchdog=(--timeout 30) ;; esac
  fi
  local probe="build/$p/tests/core_basic" builtin loaded names=() name
  mkdir -p "$dir"
  builtin=$("$probe" --list-impls)
  if ! loaded=$("$probe" --impl-lib "$lib" --list-impls); then
    echo "test.sh: $lib did not load (the error above names why)" >&2
    return 1
  fi
  while read -r name; do
    grep -qxF "$name" <<<"$builtin" || names+=("$name")
  done <<<"$loaded"
  if [ ${#names[@]} -eq 0 ]; then
    echo "test.sh: $lib registered no implementation of its own" >&2
    return 1
  fi
  if [ "$role" = pass ]; then
    echo "=== preset $p: ${names[*]} from $lib ==="
  else
    echo "=== preset $p: the mutant ${names[*]} from $lib (some check must fail) ==="
  fi
  # The environment ctest gives this preset's tests (CMakePresets.json:
  # the sanitizers' options), so the checks run as ctest's do.
  local env_of_preset
  mapfile -t env_of_preset < <(/usr/bin/python3 - "$p" <<'PY'
import json, sys
for t in json.load(open("CMakePresets.json"))["testPresets"]:
    if t["name"] == sys.argv[1]:
        for k, v in t.get("environment", {}).items():
            print(f"{k}={v}")
PY
)
  local bad=0 check cmd finished
  local -A running=()   # pid -> check, at most $jobs at a time
  for name in "${names[@]}"; do
    while IFS=$'\t' read -r check cmd; do
      [ -n "$check" ] || continue
      base="$dir/$check.$name"
      # shellcheck disable=SC2086 # cmd is a program and its words
      ( if env "${env_of_preset[@]}" $cmd "${watchdog[@]}" --impl-lib "$lib" --impl "$name" </dev/null >"$base.log" 2>&1; then
          [ "$role" = pass ] && echo "PASS $check/$name" || echo "passed $check/$name"
        else
          [ "$role" = pass ] && echo "FAIL $check/$name (log: $base.log)" ||
            echo "CAUGHT $check/$name (log: $base.log)"
          exit 1
        fi ) &
      running[$!]=$check
      if [ ${#running[@]} -ge "$jobs" ]; then
        wait -n -p finished "${!running[@]}" || bad=1
        unset "running[$finished]"
      fi
    done < "build/$p/impl_checks.txt"
  done
  while [ ${#running[@]} -gt 0 ]; do
    wait -n -p finished "${!running[@]}" || bad=1
    unset "running[$finished]"
  done
  if [ "$role" = pass ]; then
    return $bad
  elif [ $bad = 0 ]; then
    echo "test.sh: the mutant $lib passed every check: the suite does not catch its bug" >&2
    return 1
  fi
}

failed=()
for p in "${presets[@]}"; do
  echo "=== preset $p: configure, build, test ==="
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  log_dir="build/$p/Testing/Temporary"
  rm -f "$log_dir"/LastTest*.log
  rm -rf "build/$p/Testing/impl-lib" "build/$p/Testing/impl-lib-mutant"
  if [ $loaded_only = 0 ] && ! ctest --preset "$p"; then
    failed+=("$p")
  fi
  mapfile -t libs < <(libs_for "$p")
  for entry in "${libs[@]}"; do
    lib=${entry#* }
    check_loaded "$p" "${entry%% *}" "$lib" || failed+=("$p($(basename "$lib"))")
  done
  # A sanitizer report fails its test (halt_on_error), but a report from a
  # forked child or a helper process might not: look for any in the logs.
  if grep -l -E "WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer|runtime error:" \
      "$log_dir"/LastTest*.log "build/$p/Testing/impl-lib"/*.log 2>/dev/null; then
    echo "test.sh: sanitizer report in preset $p (see the logs above)" >&2
    failed+=("$p(sanitizer)")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "test.sh: FAILED in: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all tests passed in: ${presets[*]}"
