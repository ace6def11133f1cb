#!/usr/bin/env bash
# Lists the functions the C headers of a Wasmtime C API release declare, with the features of
# its default build on (all of them but disable-logging), one name a line, sorted: the names its
# library exports. Used to write capi/lib/tests/wasmtime29-exports.txt, which
# capi/lib/tests/c_programs.rs (`every_wasmtime_29_export_resolves`) checks against libwasmjit.so.
#
#   scripts/wasmtime-capi-exports.sh [VERSION] > capi/lib/tests/wasmtime29-exports.txt
#
# The headers come from the crate wasmtime-c-api-impl VERSION (default 29.0.1) in cargo's
# registry; fetch it first (a scratch package depending on it, then `cargo fetch`).
set -euo pipefail
version="${1:-29.0.1}"
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wasmtime-c-api-impl-"$version" | head -1)
[ -d "$src/include" ] || { echo "wasmtime-c-api-impl $version is not in the registry" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/wasmtime"
# The default build's conf.h: every feature but disable-logging.
sed -e 's/^#cmakedefine WASMTIME_FEATURE_DISABLE_LOGGING$//' \
    -e 's/^#cmakedefine /#define /' "$src/include/wasmtime/conf.h.in" > "$work/wasmtime/conf.h"
echo '#include <wasmtime.h>' > "$work/all.c"
cc -E -P -I "$work" -I "$src/include" "$work/all.c" |
  # Declarations only: drop the bodies of static inline helpers, one statement a line.
  awk 'BEGIN { RS = ""; ORS = "" } {
         out = ""; depth = 0
         for (i = 1; i <= length($0); i++) {
           c = substr($0, i, 1)
           if (c == "{") { depth++; if (depth == 1) out = out ";" }
           else if (c == "}") depth--
           else if (depth == 0) out = out c
         }
         print out
       }' |
  tr '\n' ' ' | tr ';' '\n' |
  grep -v '^[[:space:]]*typedef' | grep -v '\bstatic\b' | grep '(' |
  sed -E 's/\(.*//' | grep -oE '(wasm|wasmtime|wasi)_[A-Za-z0-9_]*[[:space:]]*$' |
  tr -d ' ' | sort -u
