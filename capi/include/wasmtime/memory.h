/*
 * wasmtime/memory.h: linear memories and 64-bit memory types.
 */

#ifndef WASMTIME_MEMORY_H
#define WASMTIME_MEMORY_H

#include <wasm.h>
#include <wasmtime/error.h>
#include <wasmtime/extern.h>
#include <wasmtime/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A memory type with limits in pages. NULL for invalid limits (a shared memory needs a
 * maximum). */
WASM_API_EXTERN wasm_memorytype_t *wasmtime_memorytype_new(uint64_t min, bool max_present,
                                                           uint64_t max, bool is_64,
                                                           bool shared);

/* The minimum in pages. */
WASM_API_EXTERN uint64_t wasmtime_memorytype_minimum(const wasm_memorytype_t *ty);

/* Whether there is a maximum, and its value in pages. */
WASM_API_EXTERN bool wasmtime_memorytype_maximum(const wasm_memorytype_t *ty, uint64_t *max);

/* Whether addresses are 64-bit. */
WASM_API_EXTERN bool wasmtime_memorytype_is64(const wasm_memorytype_t *ty);

/* Whether the memory is shared. */
WASM_API_EXTERN bool wasmtime_memorytype_isshared(const wasm_memorytype_t *ty);

/* A new memory of type `ty`, written to `ret`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_memory_new(wasmtime_context_t *store,
                                                      const wasm_memorytype_t *ty,
                                                      wasmtime_memory_t *ret);

/* The memory's type; its minimum is the current size (owned by the caller). */
WASM_API_EXTERN wasm_memorytype_t *wasmtime_memory_type(const wasmtime_context_t *store,
                                                        const wasmtime_memory_t *memory);

/* The base address of the memory's bytes; valid until the memory grows. */
WASM_API_EXTERN uint8_t *wasmtime_memory_data(const wasmtime_context_t *store,
                                              const wasmtime_memory_t *memory);

/* The memory's size in bytes. */
WASM_API_EXTERN size_t wasmtime_memory_data_size(const wasmtime_context_t *store,
                                                 const wasmtime_memory_t *memory);

/* The memory's size in pages. */
WASM_API_EXTERN uint64_t wasmtime_memory_size(const wasmtime_context_t *store,
                                              const wasmtime_memory_t *memory);

/* Grows by `delta` pages, writing the old size in pages to `prev_size`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_memory_grow(wasmtime_context_t *store,
                                                       const wasmtime_memory_t *memory,
                                                       uint64_t delta, uint64_t *prev_size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_MEMORY_H */
