#!/usr/bin/env bash
# Rebuilds the committed WASI test programs (tests/wasi/*.wasm): the C ones from *.c, and
# the Rust ones (std only) from the cargo project rust/ into rust_<name>.wasm.
# Needs clang, wasm-ld and wasi-libc (Debian: apt-get install -y clang lld wasi-libc
# libclang-rt-dev-wasm32). The tests themselves need none of these: they load the
# committed .wasm files. The conformance programs share check.h; each checks its own
# results (Wasmtime 48's answers) and exits non-zero on a mismatch. The Rust programs need
# the wasm32-wasip1 target (rustup target add wasm32-wasip1).
set -euo pipefail
cd "$(dirname "$0")"

CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null || ! command -v wasm-ld >/dev/null; then
    echo "build.sh needs clang and wasm-ld: apt-get install -y clang lld" >&2
    exit 1
fi

for src in *.c; do
    name=${src%.c}
    "$CLANG" --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-all \
        -o "$name.wasm" "$src"
    chmod a-x "$name.wasm"
    echo "$name.wasm: $(wc -c <"$name.wasm") bytes"
done

# The Rust programs: one binary per file of rust/src/bin/.
(
    cd rust
    cargo build --release --target wasm32-wasip1 --bins
)
out="${CARGO_TARGET_DIR:-rust/target}/wasm32-wasip1/release"
for src in rust/src/bin/*.rs; do
    name=$(basename "$src" .rs)
    cp "$out/$name.wasm" "rust_$name.wasm"
    chmod a-x "rust_$name.wasm"
    echo "rust_$name.wasm: $(wc -c <"rust_$name.wasm") bytes"
done
