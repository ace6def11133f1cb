/*
 * wasmtime/table.h: tables.
 */

#ifndef WASMTIME_TABLE_H
#define WASMTIME_TABLE_H

#include <wasm.h>
#include <wasmtime/error.h>
#include <wasmtime/extern.h>
#include <wasmtime/store.h>
#include <wasmtime/val.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A new table of type `ty` with every element `init`, written to `table`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_table_new(wasmtime_context_t *store,
                                                     const wasm_tabletype_t *ty,
                                                     const wasmtime_val_t *init,
                                                     wasmtime_table_t *table);

/* The table's type; its minimum is the current size (owned by the caller). */
WASM_API_EXTERN wasm_tabletype_t *wasmtime_table_type(const wasmtime_context_t *store,
                                                      const wasmtime_table_t *table);

/* Element `index`; false if out of bounds. */
WASM_API_EXTERN bool wasmtime_table_get(wasmtime_context_t *store, const wasmtime_table_t *table,
                                        uint64_t index, wasmtime_val_t *val);

/* Sets element `index`; an error if out of bounds or of the wrong type. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_table_set(wasmtime_context_t *store,
                                                     const wasmtime_table_t *table,
                                                     uint64_t index, const wasmtime_val_t *value);

/* The number of elements. */
WASM_API_EXTERN uint64_t wasmtime_table_size(const wasmtime_context_t *store,
                                             const wasmtime_table_t *table);

/* Grows by `delta` elements set to `init`, writing the old size to `prev_size`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_table_grow(wasmtime_context_t *store,
                                                      const wasmtime_table_t *table,
                                                      uint64_t delta, const wasmtime_val_t *init,
                                                      uint64_t *prev_size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_TABLE_H */
