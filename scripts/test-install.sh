#!/usr/bin/env bash
# Installs wasmjit into a temporary prefix and checks that C programs find it the three ways
# users expect: pkg-config (shared), pkg-config with the static library, and CMake's
# find_package. Needs cc, pkg-config, cmake and readelf.
#
# usage: scripts/test-install.sh [--no-build]   (--no-build: use what target/ holds)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
scripts/install.sh --prefix "$prefix" "$@" >/dev/null

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
fail() { echo "install test FAILED: $*" >&2; exit 1; }
expect_hello() { # program
    local got
    got="$("$@")" || fail "$1 exited with $?"
    case "$got" in
        *"> Hello World!"*) ;;
        *) fail "$1 printed: $got" ;;
    esac
}

# The soname, set by the linker.
soname="$(readelf -d "$prefix/lib/libwasmjit.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[ -n "$soname" ] || fail "libwasmjit.so.$version has no soname"
[ -e "$prefix/lib/$soname" ] || fail "the soname link $soname is missing"
[ "$(readlink -f "$prefix/lib/libwasmjit.so")" = "$(readlink -f "$prefix/lib/libwasmjit.so.$version")" ] \
    || fail "libwasmjit.so does not lead to libwasmjit.so.$version"
echo "soname: $soname"

# 1. pkg-config, shared library: no -I/-L written by hand.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion wasmjit)" = "$version" ] || fail "pkg-config --modversion"
# shellcheck disable=SC2046
cc -std=c11 examples/c/hello.c $(pkg-config --cflags --libs wasmjit) -o "$work/hello_pc"
readelf -d "$work/hello_pc" | grep -q "NEEDED.*\[$soname\]" || fail "hello_pc does not need $soname"
LD_LIBRARY_PATH="$prefix/lib" expect_hello "$work/hello_pc"
echo "pkg-config (shared): ok"

# 2. pkg-config, static library: the .pc's flags alone link it (a copy of the prefix without
# the shared library, so -lwasmjit can only find the archive).
cp -a "$prefix" "$work/static"
rm -f "$work/static/lib/"libwasmjit.so*
# shellcheck disable=SC2046
cc -std=c11 examples/c/hello.c $(PKG_CONFIG_PATH="$work/static/lib/pkgconfig" \
    pkg-config --cflags --libs --static wasmjit) -o "$work/hello_static_pc"
if readelf -d "$work/hello_static_pc" | grep -q "NEEDED.*libwasmjit"; then
    fail "hello_static_pc still needs libwasmjit.so"
fi
expect_hello "$work/hello_static_pc"
echo "pkg-config (static): ok"

# 3. CMake: find_package(wasmjit) and the imported targets.
cmake -S tests/install -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 \
    || { cat "$work/cmake.log"; fail "cmake configure"; }
cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake build"; }
expect_hello "$work/cmake/hello_shared"
expect_hello "$work/cmake/hello_static"
readelf -d "$work/cmake/hello_shared" | grep -q "NEEDED.*\[$soname\]" || fail "hello_shared does not need $soname"
echo "cmake find_package (shared and static): ok"

# The installed command runs.
[ "$("$prefix/bin/wasmjit" run examples/fib.wat --invoke fib 10)" = 55 ] || fail "bin/wasmjit"
echo "install test: ok"
