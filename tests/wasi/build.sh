#!/usr/bin/env bash
# Rebuilds the committed WASI test programs (tests/wasi/*.wasm) from their C sources.
# Needs clang, wasm-ld and wasi-libc (Debian: apt-get install -y clang lld wasi-libc
# libclang-rt-dev-wasm32). The tests themselves need none of these: they load the
# committed .wasm files. The conformance programs share check.h; each checks its own
# results (Wasmtime 48's answers) and exits non-zero on a mismatch.
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
