#!/usr/bin/env bash
# build.sh - builds chanpeers (this folder) offline with Debian's cargo and
# rustc against Debian's crate registry, entirely inside a build folder:
#   build.sh <out-dir> <link-spec>
# <out-dir> gets the copied package, CARGO_HOME and cargo's target dir; the
# program ends up in <out-dir>/chanpeers. <link-spec> is CHANPEERS_LINK for
# build.rs. Run by the CMake target chanpeers_rust.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build.sh <out-dir> <link-spec>}
link=${2:?usage: build.sh <out-dir> <link-spec>}
cargo=/usr/bin/cargo rustc=/usr/bin/rustc   # Debian's, not a local toolchain
for tool in "$cargo" "$rustc"; do
  [ -x "$tool" ] || { echo "build.sh: $tool missing: install the Debian packages cargo and rustc (scripts/install-deps.sh does)" >&2; exit 1; }
done

# The registry folder, from where the crossbeam-channel package put its crate.
crate=$(dpkg -L librust-crossbeam-channel-dev 2>/dev/null |
        grep -E '/crossbeam-channel-[^/]+/Cargo\.toml$' | head -1 || true)
if [ -z "$crate" ]; then
  echo "build.sh: the Debian crate registry was not found: install librust-crossbeam-channel-dev, librust-flume-dev and librust-tokio-dev (scripts/install-deps.sh does)" >&2
  exit 1
fi
registry=$(dirname "$(dirname "$crate")")

# Cargo writes Cargo.lock beside Cargo.toml: build a copy, never the source.
mkdir -p "$out/pkg/src" "$out/cargo-home"
cp "$src/Cargo.toml" "$src/build.rs" "$out/pkg/"
cp "$src"/src/*.rs "$out/pkg/src/"
cat > "$out/cargo-home/config.toml" <<TOML
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "$registry"
[net]
offline = true
TOML

version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
export CHANPEERS_LIBRARIES="crossbeam=crossbeam-channel (librust-crossbeam-channel-dev $(version librust-crossbeam-channel-dev));flume=flume (librust-flume-dev $(version librust-flume-dev));tokio=tokio (librust-tokio-dev $(version librust-tokio-dev))"
export CHANPEERS_LINK="$link" CARGO_HOME="$out/cargo-home" RUSTC="$rustc"
"$cargo" build --release --offline --quiet \
  --manifest-path "$out/pkg/Cargo.toml" --target-dir "$out/target"
cp "$out/target/release/chanpeers" "$out/chanpeers"
echo "build.sh: built $out/chanpeers ($("$rustc" --version))"
