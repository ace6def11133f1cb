#!/usr/bin/env bash
# Builds the release archives: one wasmjit-VERSION-ARCH-linux.tar.xz per target, each the
# layout of scripts/install.sh (bin/, include/, lib/ with pkg-config and CMake files) under a
# top directory of the same name, with a README saying how to compile against it.
#
# usage: scripts/release.sh [--out DIR] [TRIPLE...]
#   default triples: x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu (cross-built: needs
#   Debian's gcc-aarch64-linux-gnu and libc6-dev-arm64-cross, and `rustup target add`)
#   default DIR: target/dist
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${CARGO_TARGET_DIR:-$root/target}/dist"
if [ "${1:-}" = "--out" ]; then out="$2"; shift 2; fi
triples=("$@")
[ ${#triples[@]} -gt 0 ] || triples=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu)
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
host="$(rustc -vV | sed -n 's/^host: //p')"

for triple in "${triples[@]}"; do
    arch="${triple%%-*}"
    name="wasmjit-$version-$arch-linux"
    stage="$out/$name"
    rm -rf "$stage"
    if [ "$arch" = aarch64 ] && [ "$(uname -m)" != aarch64 ]; then
        # runtime/build.rs and capi compile C: name the cross compiler for the `cc` crate.
        export CC_aarch64_unknown_linux_gnu="${CC_aarch64_unknown_linux_gnu:-aarch64-linux-gnu-gcc}"
    fi
    if [ "$triple" = "$host" ]; then
        # The host's own build (target/release), not a second one under target/<triple>.
        scripts/install.sh --prefix "$stage"
    else
        scripts/install.sh --prefix "$stage" --target "$triple"
    fi
    # Debug line tables make the archive several times larger; the archive ships without them.
    strip_tool=strip
    [ "$arch" = "$(uname -m)" ] || strip_tool="$arch-linux-gnu-strip"
    if command -v "$strip_tool" >/dev/null 2>&1; then
        "$strip_tool" --strip-debug "$stage/bin/wasmjit" "$stage/lib/libwasmjit.so.$version" \
            "$stage/lib/libwasmjit.a"
    else
        echo "$strip_tool not found: $name keeps its debug information" >&2
    fi
    cat >"$stage/README" <<README
wasmjit $version for $arch Linux: the \`wasmjit\` command and the C library, whose C API is
Wasmtime 29's (wasm.h, wasi.h, wasmtime.h, wasmtime.hh, wasmtime/*.h).

Unpack anywhere; DIR below is this directory.

  pkg-config:  export PKG_CONFIG_PATH=DIR/lib/pkgconfig
               cc app.c \$(pkg-config --cflags --libs wasmjit) -o app
               LD_LIBRARY_PATH=DIR/lib ./app      (or add -Wl,-rpath,DIR/lib)
  static:      cc app.c \$(pkg-config --cflags --libs --static wasmjit) -o app
               (with only libwasmjit.a in the library path, or name DIR/lib/libwasmjit.a)
  CMake:       find_package(wasmjit 0.1 REQUIRED)
               target_link_libraries(app wasmjit::wasmjit)   # or wasmjit::wasmjit-static
               cmake -DCMAKE_PREFIX_PATH=DIR ...
  by hand:     cc app.c -I DIR/include -L DIR/lib -lwasmjit -Wl,-rpath,DIR/lib -o app

The shared library's soname is $(cd "$stage/lib" && ls libwasmjit.so.* | sort | head -n 1).
README
    XZ_OPT="${XZ_OPT:--T0}" tar -C "$out" -cJf "$out/$name.tar.xz" "$name"
    echo "$out/$name.tar.xz"
done
