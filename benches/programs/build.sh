#!/usr/bin/env bash
# Rebuilds the committed real-program modules (benches/programs/*.wasm) from src/bin/*.rs
# for wasm32-wasip1 (rustup target add wasm32-wasip1), release profile (opt-level 3, fat LTO,
# see Cargo.toml), and records each program's expected output (<name>.expected) from a run on
# the host, which tests/all/programs.rs compares wasmjit's output with.
#
# The bench (benches/programs.rs) and the test load the committed files; neither needs this
# script. It builds in $CARGO_TARGET_DIR/programs (default: target/programs beside this file).
#
# The sqlite program compiles SQLite's C amalgamation (rusqlite's `bundled` feature) with
# clang against wasi-libc: apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32.
# (clang 14 knows the triple as wasm32-wasi, not wasm32-wasip1.)
set -euo pipefail
cd "$(dirname "$0")"

export CC_wasm32_wasip1=${CC_wasm32_wasip1:-clang}
export CFLAGS_wasm32_wasip1=${CFLAGS_wasm32_wasip1:---target=wasm32-wasi -isystem /usr/include/wasm32-wasi}

target=${CARGO_TARGET_DIR:-$PWD/target}/programs
export CARGO_TARGET_DIR=$target

cargo build --release --locked --target wasm32-wasip1
cargo build --release --locked
for src in src/bin/*.rs; do
    name=$(basename "$src" .rs)
    cp "$target/wasm32-wasip1/release/$name.wasm" "$name.wasm"
    chmod a-x "$name.wasm"
    "$target/release/$name" >"$name.expected"
    echo "$name.wasm: $(wc -c <"$name.wasm") bytes, $(cat "$name.expected")"
done
