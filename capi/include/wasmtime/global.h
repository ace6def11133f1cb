/*
 * wasmtime/global.h: globals.
 */

#ifndef WASMTIME_GLOBAL_H
#define WASMTIME_GLOBAL_H

#include <wasm.h>
#include <wasmtime/extern.h>
#include <wasmtime/store.h>
#include <wasmtime/val.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A new global of type `type` holding `val`, written to `ret`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_global_new(wasmtime_context_t *store,
                                                      const wasm_globaltype_t *type,
                                                      const wasmtime_val_t *val,
                                                      wasmtime_global_t *ret);

/* The global's type (owned by the caller). */
WASM_API_EXTERN wasm_globaltype_t *wasmtime_global_type(const wasmtime_context_t *store,
                                                        const wasmtime_global_t *global);

/* The global's value. */
WASM_API_EXTERN void wasmtime_global_get(wasmtime_context_t *store,
                                         const wasmtime_global_t *global, wasmtime_val_t *out);

/* Sets the global; an error if it is immutable or the value has another type. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_global_set(wasmtime_context_t *store,
                                                      const wasmtime_global_t *global,
                                                      const wasmtime_val_t *val);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_GLOBAL_H */
