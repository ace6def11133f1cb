/*
 * wasmtime/store.h: stores and their contexts.
 *
 * A store owns everything instantiated or created in it (instances, functions, memories,
 * tables, globals, externrefs) until it is deleted; there is no collection before that.
 * Make one per unit of work (say, per request) rather than one forever.
 */

#ifndef WASMTIME_STORE_H
#define WASMTIME_STORE_H

#include <wasi.h>
#include <wasm.h>
#include <wasmtime/conf.h>
#include <wasmtime/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A store. */
typedef struct wasmtime_store wasmtime_store_t;

/* A store's context: what most functions take. Valid as long as its store. Inside a host
 * call, use the context the caller gives (wasmtime_caller_context). */
typedef struct wasmtime_context wasmtime_context_t;

/* A new store in `engine` holding `data`; `finalizer` (may be NULL) gets `data` when the
 * store is deleted. */
WASM_API_EXTERN wasmtime_store_t *wasmtime_store_new(wasm_engine_t *engine, void *data,
                                                     void (*finalizer)(void *));

/* The store's context. */
WASM_API_EXTERN wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *store);

/* Limits what the store may hold; negative means unlimited. In wasmjit the limits apply to
 * what is created and grown through this API (instances, host-made memories and tables and
 * their growth), not to growth performed by wasm code itself. */
WASM_API_EXTERN void wasmtime_store_limiter(wasmtime_store_t *store, int64_t memory_size,
                                            int64_t table_elements, int64_t instances,
                                            int64_t tables, int64_t memories);

/* Deletes the store and everything in it. */
WASM_API_EXTERN void wasmtime_store_delete(wasmtime_store_t *store);

/* The data pointer given to wasmtime_store_new (or set later). */
WASM_API_EXTERN void *wasmtime_context_get_data(const wasmtime_context_t *context);

/* Replaces the data pointer; the finalizer stays the same. */
WASM_API_EXTERN void wasmtime_context_set_data(wasmtime_context_t *context, void *data);

/* Collects unreachable references. wasmjit keeps externrefs for the store's whole life, so
 * this does nothing. */
WASM_API_EXTERN void wasmtime_context_gc(wasmtime_context_t *context);

/* Sets the fuel left; an error unless consume_fuel is configured. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_context_set_fuel(wasmtime_context_t *store,
                                                            uint64_t fuel);

/* The fuel left; an error unless consume_fuel is configured. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_context_get_fuel(const wasmtime_context_t *context,
                                                            uint64_t *fuel);

#ifdef WASMTIME_FEATURE_WASI
/* Gives the store a WASI context built from `wasi`, which is taken over (even on error). */
WASM_API_EXTERN wasmtime_error_t *wasmtime_context_set_wasi(wasmtime_context_t *context,
                                                            wasi_config_t *wasi);
#endif

/* Sets the epoch deadline `ticks_beyond_current` epochs after the engine's current epoch. */
WASM_API_EXTERN void wasmtime_context_set_epoch_deadline(wasmtime_context_t *context,
                                                         uint64_t ticks_beyond_current);

/* What an epoch deadline callback decides. */
typedef uint8_t wasmtime_update_deadline_kind_t;
/* Keep running with the new deadline. */
#define WASMTIME_UPDATE_DEADLINE_CONTINUE 0
/* Yield to the async caller, then keep running with the new deadline. */
#define WASMTIME_UPDATE_DEADLINE_YIELD 1

/* Calls `func` when the epoch deadline is reached. It either returns NULL after setting
 * `*epoch_deadline_delta` and `*update_kind`, or returns an error that ends the call.
 * `finalizer` (may be NULL) gets `data` when the callback is replaced or the store goes. */
WASM_API_EXTERN void wasmtime_store_epoch_deadline_callback(
    wasmtime_store_t *store,
    wasmtime_error_t *(*func)(wasmtime_context_t *context, void *data,
                              uint64_t *epoch_deadline_delta,
                              wasmtime_update_deadline_kind_t *update_kind),
    void *data, void (*finalizer)(void *));

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_STORE_H */
