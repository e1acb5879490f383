#!/usr/bin/env bash
# install-deps.sh - installs the Debian 12 packages chanlab needs, if any are
# missing. Runs apt-get as root; otherwise prints the exact command to run.
#
# usage: scripts/install-deps.sh [options]
#   -t, --test    only what the test command (scripts/test.sh) needs
#   -l, --list    print the packages (of the chosen set) and exit
#   -h, --help    this help
# Checking takes under a second; installing takes what apt-get takes
# to download and unpack the missing packages.
set -euo pipefail

usage() { sed -n '/^# usage:/,/^# to download/p' "$0" | sed 's/^# \{0,1\}//'; }
parsed=$(getopt -n install-deps.sh -o tlh -l test,list,help -- "$@") ||
  { echo "(scripts/install-deps.sh --help lists the flags)" >&2; exit 2; }
eval set -- "$parsed"
only_test=0 list=0
while true; do
  case "$1" in
    -t|--test) only_test=1; shift ;;
    -l|--list) list=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
  esac
done
[ $# -eq 0 ] || { echo "install-deps.sh: unexpected argument '$1'" >&2; exit 2; }

# The library needs Boost.Context (the fiber runtime's context switch) and
# hwloc. The test command also builds the release preset's benchmark binary
# and runs its placement and command-line tests (which run the report and
# compare scripts: matplotlib and scipy), hence the benchmark libraries, and
# the C/C++ peers' correctness tests (bench/peers), hence their libraries.
test_pkgs=(cmake ninja-build pkg-config gcc g++ clang libclang-rt-14-dev spin
           libboost-context-dev libbenchmark-dev libhwloc-dev hwloc
           libjemalloc-dev python3-matplotlib python3-scipy
           libboost-fiber-dev libtbb-dev libck-dev libconcurrentqueue-dev
           libreaderwriterqueue-dev)
# The benchmarks beside them: Go, and the Rust peers' toolchain and crates.
bench_pkgs=(golang-go cargo rustc librust-crossbeam-channel-dev
            librust-flume-dev librust-libc-dev librust-regex-dev
            librust-nanorand-dev librust-tokio-dev)

pkgs=("${test_pkgs[@]}")
[ $only_test = 1 ] || pkgs+=("${bench_pkgs[@]}")
if [ $list = 1 ]; then
  printf '%s\n' "${pkgs[@]}"
  exit 0
fi

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
