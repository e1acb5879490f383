#!/usr/bin/env bash
# Installs the Debian 12 packages chanlab needs, if any are missing.
# Runs apt-get as root; otherwise prints the exact command to run.
#   scripts/install-deps.sh          everything (build, tests, benchmarks, plots)
#   scripts/install-deps.sh --test   only what the test command needs
set -euo pipefail

# The test command also builds the release preset's benchmark binary and
# runs its placement and command-line tests, hence the benchmark libraries.
test_pkgs=(cmake ninja-build pkg-config gcc g++ clang libclang-rt-14-dev spin
           libbenchmark-dev libhwloc-dev hwloc libjemalloc-dev python3-matplotlib)
bench_pkgs=(libbenchmark-tools python3-scipy golang-go)
# The peers (bench/peers): C/C++ queues, built when present (their tests
# skip the absent ones), and the Rust program's toolchain and crates.
peer_pkgs=(libboost-fiber-dev libtbb-dev libck-dev libconcurrentqueue-dev
           libreaderwriterqueue-dev cargo rustc librust-crossbeam-channel-dev
           librust-flume-dev librust-libc-dev librust-regex-dev)

case "${1:-}" in
  --test) pkgs=("${test_pkgs[@]}") ;;
  "") pkgs=("${test_pkgs[@]}" "${bench_pkgs[@]}" "${peer_pkgs[@]}") ;;
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
