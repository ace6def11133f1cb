/*
 * wasmtime.h: the Wasmtime-style C API of wasmjit, compatible with Wasmtime 29.
 *
 * Includes every other header. Types (`wasm_functype_t`, ...), configurations and engines
 * come from wasm.h; stores, functions, memories, ... from the wasmtime/ headers.
 *
 * Threads: objects may move between threads. Functions taking a `const` context or object
 * may run concurrently with each other; the others need exclusive use of what they are given.
 */

#ifndef WASMTIME_API_H
#define WASMTIME_API_H

#include <wasi.h>
#include <wasmtime/conf.h>
#include <wasmtime/config.h>
#include <wasmtime/engine.h>
#include <wasmtime/error.h>
#include <wasmtime/extern.h>
#include <wasmtime/func.h>
#include <wasmtime/global.h>
#include <wasmtime/instance.h>
#include <wasmtime/linker.h>
#include <wasmtime/memory.h>
#include <wasmtime/module.h>
#include <wasmtime/profiling.h>
#include <wasmtime/sharedmemory.h>
#include <wasmtime/store.h>
#include <wasmtime/table.h>
#include <wasmtime/trap.h>
#include <wasmtime/val.h>
#include <wasmtime/async.h>

/* The Wasmtime C API version this API matches. */
#define WASMTIME_VERSION "29.0.1"
#define WASMTIME_VERSION_MAJOR 29
#define WASMTIME_VERSION_MINOR 0
#define WASMTIME_VERSION_PATCH 1

#ifdef __cplusplus
extern "C" {
#endif

#ifdef WASMTIME_FEATURE_WAT

/* Converts `wat_len` bytes of WebAssembly text to a binary module in `ret` (left untouched
 * on failure). Returns NULL or an owned error. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_wat2wasm(const char *wat, size_t wat_len,
                                                    wasm_byte_vec_t *ret);

#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_API_H */
