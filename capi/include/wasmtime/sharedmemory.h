/*
 * wasmtime/sharedmemory.h: memories shared between threads (the threads proposal). A handle
 * is owned by C until wasmtime_sharedmemory_delete; the memory lives while any handle or
 * instance uses it, never moves, and may be used from several stores and threads at once.
 */

#ifndef WASMTIME_SHAREDMEMORY_H
#define WASMTIME_SHAREDMEMORY_H

#include <wasm.h>
#include <wasmtime/conf.h>
#include <wasmtime/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A shared linear memory. */
typedef struct wasmtime_sharedmemory wasmtime_sharedmemory_t;

#ifdef WASMTIME_FEATURE_THREADS
/* Creates a shared memory of type `ty` into `*ret`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_sharedmemory_new(const wasm_engine_t *engine,
                                                            const wasm_memorytype_t *ty,
                                                            wasmtime_sharedmemory_t **ret);
#endif

/* Frees a handle. */
WASM_API_EXTERN void wasmtime_sharedmemory_delete(wasmtime_sharedmemory_t *memory);
/* Another handle to the same memory. */
WASM_API_EXTERN wasmtime_sharedmemory_t *
wasmtime_sharedmemory_clone(const wasmtime_sharedmemory_t *memory);
/* The memory's type. */
WASM_API_EXTERN wasm_memorytype_t *
wasmtime_sharedmemory_type(const wasmtime_sharedmemory_t *memory);
/* The base address of its bytes. */
WASM_API_EXTERN uint8_t *wasmtime_sharedmemory_data(const wasmtime_sharedmemory_t *memory);
/* Its size in bytes. */
WASM_API_EXTERN size_t wasmtime_sharedmemory_data_size(const wasmtime_sharedmemory_t *memory);
/* Its size in pages. */
WASM_API_EXTERN uint64_t wasmtime_sharedmemory_size(const wasmtime_sharedmemory_t *memory);
/* Grows by `delta` pages, giving the old size. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_sharedmemory_grow(const wasmtime_sharedmemory_t *memory,
                                                             uint64_t delta, uint64_t *prev_size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_SHAREDMEMORY_H */
