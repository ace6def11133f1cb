#!/usr/bin/env bash
# The full comparison: every bench on wasmjit and Wasmtime (and the kernels natively), with
# short criterion times so the whole run takes minutes, then every bench's ratio table
# gathered into one file.
#
#   benches/compare.sh [OUT]     # OUT defaults to target/compare-tables.md
#
# Criterion settings can be overridden with BENCH_ARGS (default: 1 s warm-up, 3 s measurement).
# The raw output of each bench goes to target/compare-<bench>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
out=${1:-$target/compare-tables.md}
args=${BENCH_ARGS:---warm-up-time 1 --measurement-time 3}
benches=(kernels compile deserialize calls instantiate async_calls instrumentation)

cargo bench --features compare --no-run
: >"$out"
{
    echo "benches/compare.sh, $(date -u '+%Y-%m-%d %H:%M UTC'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
} >>"$out"
for bench in "${benches[@]}"; do
    echo "== $bench" >&2
    # shellcheck disable=SC2086 # $args is a list of criterion flags
    cargo bench --features compare --bench "$bench" -- $args 2>&1 | tee "$target/compare-$bench.log" >&2
    # The ratio table: from its `### ` title to the end of the table.
    awk '/^### /{on=1} on{print} on&&/^$/&&seen{on=0} /^\|/{seen=1}' "$target/compare-$bench.log" >>"$out"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
echo "tables written to $out" >&2
