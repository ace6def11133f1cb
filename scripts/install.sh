#!/usr/bin/env bash
# Builds wasmjit (release) and installs the command and the C library under a prefix:
#
#   PREFIX/bin/wasmjit
#   PREFIX/include/{wasm.h,wasi.h,wasmtime.h,wasmtime.hh,wasmtime/*.h}
#   PREFIX/lib/libwasmjit.so.X.Y.Z, its soname link and libwasmjit.so; PREFIX/lib/libwasmjit.a
#   PREFIX/lib/pkgconfig/wasmjit.pc
#   PREFIX/lib/cmake/wasmjit/wasmjitConfig.cmake, wasmjitConfigVersion.cmake
#
# The .pc and CMake files locate everything relative to themselves, so an installed tree can be
# moved (it is what scripts/release.sh archives).
#
# usage: scripts/install.sh --prefix DIR [--target TRIPLE] [--no-build]
#   --target   cross-build for TRIPLE (e.g. aarch64-unknown-linux-gnu; see README "Targets")
#   --no-build install what target/ already holds
set -euo pipefail

usage() { echo "usage: $0 --prefix DIR [--target TRIPLE] [--no-build]" >&2; exit 2; }
prefix="" target="" build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || usage; prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --target) [ $# -ge 2 ] || usage; target="$2"; shift 2 ;;
        --target=*) target="${1#--target=}"; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$prefix" ] || usage

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[ -n "$version" ] || { echo "no version in Cargo.toml" >&2; exit 1; }
major="${version%%.*}"
rest="${version#*.}"
minor="${rest%%.*}"
# The soname capi/lib/build.rs gives the library.
if [ "$major" = 0 ]; then soversion="0.$minor"; else soversion="$major"; fi

target_args=()
out="${CARGO_TARGET_DIR:-target}"
if [ -n "$target" ]; then
    target_args=(--target "$target")
    out="$out/$target"
fi
out="$out/release"
if [ "$build" = 1 ]; then
    cargo build --release "${target_args[@]}" -p libwasmjit
    cargo build --release "${target_args[@]}" -p wasmjit-cli --bin wasmjit
fi
# `cargo build` puts the libraries in the profile directory, `cargo test` only in deps/: take
# the newer.
libs="$out"
if [ ! -e "$libs/libwasmjit.so" ] || [ "$out/deps/libwasmjit.so" -nt "$libs/libwasmjit.so" ]; then
    libs="$out/deps"
fi
for f in "$out/wasmjit" "$libs/libwasmjit.so" "$libs/libwasmjit.a"; do
    [ -e "$f" ] || { echo "$f not built" >&2; exit 1; }
done

mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
install -d "$prefix/bin" "$prefix/include/wasmtime" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/wasmjit"
install -m 755 "$out/wasmjit" "$prefix/bin/wasmjit"
install -m 644 capi/include/wasm.h capi/include/wasi.h capi/include/wasmtime.h \
    capi/include/wasmtime.hh "$prefix/include/"
install -m 644 capi/include/wasmtime/*.h "$prefix/include/wasmtime/"

real="libwasmjit.so.$version"
install -m 755 "$libs/libwasmjit.so" "$prefix/lib/$real"
if [ "libwasmjit.so.$soversion" != "$real" ]; then
    ln -sfn "$real" "$prefix/lib/libwasmjit.so.$soversion"
fi
ln -sfn "libwasmjit.so.$soversion" "$prefix/lib/libwasmjit.so"
install -m 644 "$libs/libwasmjit.a" "$prefix/lib/libwasmjit.a"

# What a program linking the static library needs besides it (Rust's standard library uses
# threads, dynamic loading and libm).
private_libs="-lpthread -ldl -lm"

cat >"$prefix/lib/pkgconfig/wasmjit.pc" <<PC
prefix=\${pcfiledir}/../..
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: wasmjit
Description: WebAssembly runtime with Wasmtime 29's C API
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lwasmjit
Libs.private: $private_libs
PC

cat >"$prefix/lib/cmake/wasmjit/wasmjitConfig.cmake" <<CMAKE
# wasmjit $version: imported targets wasmjit::wasmjit (shared) and wasmjit::wasmjit-static.
get_filename_component(_wasmjit_prefix "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

if(NOT TARGET wasmjit::wasmjit)
  add_library(wasmjit::wasmjit SHARED IMPORTED)
  set_target_properties(wasmjit::wasmjit PROPERTIES
    IMPORTED_LOCATION "\${_wasmjit_prefix}/lib/$real"
    IMPORTED_SONAME "libwasmjit.so.$soversion"
    INTERFACE_INCLUDE_DIRECTORIES "\${_wasmjit_prefix}/include")
endif()

if(NOT TARGET wasmjit::wasmjit-static)
  add_library(wasmjit::wasmjit-static STATIC IMPORTED)
  set_target_properties(wasmjit::wasmjit-static PROPERTIES
    IMPORTED_LOCATION "\${_wasmjit_prefix}/lib/libwasmjit.a"
    INTERFACE_INCLUDE_DIRECTORIES "\${_wasmjit_prefix}/include"
    INTERFACE_LINK_LIBRARIES "pthread;dl;m")
endif()

set(wasmjit_INCLUDE_DIRS "\${_wasmjit_prefix}/include")
set(wasmjit_LIBRARIES wasmjit::wasmjit)
unset(_wasmjit_prefix)
CMAKE

# find_package(wasmjit X.Y): the same major version (the same minor while the major is 0),
# at least as new as asked.
cat >"$prefix/lib/cmake/wasmjit/wasmjitConfigVersion.cmake" <<CMAKE
set(PACKAGE_VERSION "$version")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
set(PACKAGE_VERSION_EXACT FALSE)
if(PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major"
   AND ("$major" STREQUAL "0" AND PACKAGE_FIND_VERSION_MINOR STREQUAL "$minor"
        OR NOT "$major" STREQUAL "0")
   AND NOT PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()
if(NOT "\${CMAKE_SIZEOF_VOID_P}" STREQUAL "" AND NOT "\${CMAKE_SIZEOF_VOID_P}" STREQUAL "8")
  set(PACKAGE_VERSION "\${PACKAGE_VERSION} (64-bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
CMAKE

echo "installed wasmjit $version under $prefix"
