#!/usr/bin/env bash
# Rebuilds the committed kernel modules (benches/kernels/*.wasm) from their C sources.
# Needs clang and wasm-ld (Debian: apt-get install -y clang lld). The benches themselves
# need neither: they load the committed .wasm files.
#
# Every kernel is compiled alone, without libc, to a module with no imports that exports
# `<name>_run` (and `<name>_init` where the kernel has one) and its memory.
set -euo pipefail
cd "$(dirname "$0")"

CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null || ! command -v wasm-ld >/dev/null; then
    echo "build.sh needs clang and wasm-ld: apt-get install -y clang lld" >&2
    exit 1
fi

build() {
    local name=$1
    shift
    local exports=(-Wl,--export="${name}_run")
    if grep -q "void ${name}_init(void)" "$name.c"; then
        exports+=(-Wl,--export="${name}_init")
    fi
    "$CLANG" --target=wasm32 -O2 -nostdlib -fno-math-errno -ffp-contract=off -mbulk-memory \
        "$@" -Wl,--no-entry "${exports[@]}" -o "$name.wasm" "$name.c"
    chmod a-x "$name.wasm"
    echo "$name.wasm: $(wc -c <"$name.wasm") bytes"
}

build fib
build loop
build sieve
build matmul
build sha256
build nbody
build simd -msimd128
build atomics -matomics

# sqlite3.wasm: SQLite's amalgamation, the compile bench's real program (about 1 MB of wasm).
# The source comes from the libsqlite3-sys crate's sources (any `cargo fetch` of a project
# depending on it puts them under ~/.cargo/registry/src), or from $SQLITE3_C. The libc it
# calls is only declared (sqlite-libc/), so those functions are imports: the module is meant
# to be compiled, not run.
SQLITE3_C=${SQLITE3_C:-$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/libsqlite3-sys-*/sqlite3/sqlite3.c 2>/dev/null | sort -V | tail -1)}
if [ -z "$SQLITE3_C" ] || [ ! -f "$SQLITE3_C" ]; then
    echo "sqlite3.wasm not rebuilt: no sqlite3.c (set SQLITE3_C, or cargo fetch libsqlite3-sys)" >&2
    exit 0
fi
"$CLANG" --target=wasm32 -O2 -nostdlib -nostdlibinc -isystem sqlite-libc -mbulk-memory \
    -fno-math-errno '-DSQLITE_API=__attribute__((visibility("default")))' \
    -DSQLITE_OS_OTHER=1 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION \
    -DSQLITE_OMIT_DEPRECATED -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_WAL \
    -DSQLITE_OMIT_LOCALTIME -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_AUTOINIT \
    -DSQLITE_OMIT_UTF16 -DSQLITE_OMIT_COMPLETE \
    -Wl,--no-entry -Wl,--export-dynamic -Wl,--allow-undefined -o sqlite3.wasm "$SQLITE3_C"
chmod a-x sqlite3.wasm
echo "sqlite3.wasm: $(wc -c <sqlite3.wasm) bytes (from $SQLITE3_C)"
