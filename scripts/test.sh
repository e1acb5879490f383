#!/usr/bin/env bash
# Runs every test: builds the release, asan and tsan presets and runs ctest
# in each (unit tests, pattern tests, bounded stress, placement tests, the
# planted-bug self-check and the spin model where they apply). Fails on any
# test failure and on any sanitizer report.
#   scripts/test.sh                   all three presets
#   scripts/test.sh release tsan      only these
set -euo pipefail
cd "$(dirname "$0")/.."

presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(release asan tsan)
for p in "${presets[@]}"; do
  case "$p" in
    release|debug|asan|tsan) ;;
    *) echo "test.sh: unknown preset '$p' (release, debug, asan, tsan)" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh

jobs=$(nproc)
failed=()
for p in "${presets[@]}"; do
  echo "=== preset $p: configure, build, test ==="
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  log_dir="build/$p/Testing/Temporary"
  rm -f "$log_dir"/LastTest*.log
  if ! ctest --preset "$p"; then
    failed+=("$p")
  fi
  # A sanitizer report fails its test (halt_on_error), but a report from a
  # forked child or a helper process might not: look for any in the logs.
  if grep -l -E "WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer|runtime error:" \
      "$log_dir"/LastTest*.log 2>/dev/null; then
    echo "test.sh: sanitizer report in preset $p (see the logs above)" >&2
    failed+=("$p(sanitizer)")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "test.sh: FAILED in: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all tests passed in: ${presets[*]}"
