#!/usr/bin/env bash
# Installs the Debian 12 packages chanlab needs, if any are missing.
# Runs apt-get as root; otherwise prints the exact command to run.
#   scripts/install-deps.sh          everything (build, tests, benchmarks, plots)
#   scripts/install-deps.sh --test   only what the test command needs
set -euo pipefail

test_pkgs=(cmake ninja-build gcc g++ clang libclang-rt-14-dev spin)
bench_pkgs=(libbenchmark-dev libbenchmark-tools libhwloc-dev hwloc
            libjemalloc-dev python3-matplotlib python3-scipy golang-go)

case "${1:-}" in
  --test) pkgs=("${test_pkgs[@]}") ;;
  "") pkgs=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "install-deps.sh: unknown argument '$1' (use --test or nothing)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "chanlab needs these Debian packages: ${missing[*]}" >&2
  echo "run as root:  apt-get update && $cmd" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd
