#!/usr/bin/env bash
# harness_selftest.sh PROGRAM - checks that the harness contains misbehaving
# tests (tests/harness_selftest.c says what each one does): the failure is
# reported at once, the hang through the watchdog, the crash naming its
# signal; the test after them runs and passes; the run ends promptly with a
# non-zero status, and the failed test's stray thread never strikes. Then
# the command line: --no-fork runs tests in-process, and bad options get
# exit status 2.
set -uo pipefail
prog=${1:?usage: harness_selftest.sh PROGRAM}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
fail() {
  echo "harness_selftest: FAILED: $*" >&2
  status=1
}
expect() { # expect REGEX WHAT
  grep -qE -- "$1" "$out" || fail "$2 (no line matching '$1')"
}

start=$(date +%s%N)
"$prog" --impl futex --executor=thread --timeout=2 >"$out" 2>&1
rc=$?
took_ms=$((($(date +%s%N) - start) / 1000000))
cat "$out"
echo "harness_selftest: the run took ${took_ms} ms, exit status $rc"

[ "$rc" -eq 1 ] || fail "exit status $rc, expected 1 (a test failed)"
expect '^\[ FAIL \] fails_while_its_thread_runs/futex/thread \([0-9.]+ ms\)' \
  "the failing test is reported as failed"
ms=$(sed -nE 's/^\[ FAIL \] fails_while_its_thread_runs\/futex\/thread \(([0-9]+)\..*/\1/p' "$out")
if [ -z "$ms" ] || [ "$ms" -ge 1500 ]; then
  fail "the failure was not reported at once (${ms:-?} ms)"
fi
expect '^WATCHDOG: test hangs on impl futex executor thread hung' "the hang is reported by the watchdog"
expect '^\[ FAIL \] hangs/futex/thread' "the hang fails its test"
expect '^CRASH: test crashes on impl futex executor thread died of signal 6 ' \
  "the crash is reported with its signal"
expect '^\[ FAIL \] crashes/futex/thread' "the crash fails its test"
expect '^\[   OK \] runs_after_the_others/futex/thread' "the test after them runs and passes"
expect '^2 passed, 3 failed$' "the summary line"
if grep -q "STRAY THREAD" "$out"; then
  fail "the failed test's thread outlived its test"
fi
# Prompt: the watchdog's 2 s plus start-up, far from the per-test default.
[ "$took_ms" -lt 15000 ] || fail "the run took ${took_ms} ms"

# On fibers the runtime must stop after the test: a fiber left blocked fails
# the test that left it.
"$prog" --impl futex --executor fiber --filter leaves_a_fiber_blocked >"$out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "a fiber left blocked: exit status $rc, expected 1"
expect 'the test left fibers behind' "a fiber left blocked fails its test"

"$prog" --impl futex --filter runs_after --no-fork >"$out" 2>&1 ||
  fail "--no-fork: the passing test did not pass"
expect 'tests share this process' "--no-fork says it runs in-process"
"$prog" --impl futex --filter hangs --no-fork --timeout 1 >"$out" 2>&1
rc=$?
[ "$rc" -eq 3 ] || fail "--no-fork: a hang should end the run with status 3, got $rc"
expect '^WATCHDOG: test hangs on impl futex executor thread hung' "--no-fork: the watchdog names the hang"

"$prog" --impl futex --executor thread --timeout 2 --fail-fast >"$out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "--fail-fast: exit status $rc, expected 1"
expect '^0 passed, 1 failed$' "--fail-fast stops at the first failure"

for bad in "--frobnicate" "--seed" "--seed x" "--timeout 0" "--impl nope" "--executor nope" "--list extra"; do
  # shellcheck disable=SC2086 # word splitting wanted
  "$prog" $bad >"$out" 2>&1
  rc=$?
  [ "$rc" -eq 2 ] || fail "'$bad' should be a usage error (status 2), got $rc"
done
"$prog" --help >"$out" 2>&1 || fail "--help failed"
for flag in --impl --executor --filter --seed --timeout --list --no-fork --fail-fast "-h, --help"; do
  expect "^  $flag " "--help lists $flag"
done

[ $status -eq 0 ] && echo "harness_selftest: PASSED"
exit $status
