#!/usr/bin/env bash
# Rebuilds the committed wasi-threads test programs (tests/wasi-threads/*.wasm) from the Rust
# sources of src/bin/. Needs rustup's `wasm32-wasip1-threads` target (rustup target add
# wasm32-wasip1-threads); the tests only load the committed .wasm files.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --target wasm32-wasip1-threads --bins
out=${CARGO_TARGET_DIR:-target}/wasm32-wasip1-threads/release
for src in src/bin/*.rs; do
    name=$(basename "$src" .rs)
    cp "$out/$name.wasm" "$name.wasm"
    chmod a-x "$name.wasm"
    echo "$name.wasm: $(wc -c <"$name.wasm") bytes"
done
