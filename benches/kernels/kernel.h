/* Shared by every kernel. Each kernel exports `<name>_run(void) -> int32_t` (a checksum that
 * the benches compare across wasmjit, Wasmtime and native code) and, where it has state to
 * set up outside the timed part, `<name>_init(void)`. No libc: the wasm builds link nothing
 * (see build.sh), the native builds (build.rs) only let the compiler call memset. */
#ifndef WASMJIT_BENCH_KERNEL_H
#define WASMJIT_BENCH_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* Parameters the compiler must read at run time, so no kernel folds to a constant. */
#define KERNEL_PARAM static volatile

#endif
