/*
 * wasmtime/instance.h: instances and pre-resolved instantiation.
 */

#ifndef WASMTIME_INSTANCE_H
#define WASMTIME_INSTANCE_H

#include <wasm.h>
#include <wasmtime/extern.h>
#include <wasmtime/module.h>
#include <wasmtime/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An instance of a store. */
typedef struct wasmtime_instance {
  uint64_t store_id;
  size_t index;
} wasmtime_instance_t;

/* Instantiates `module` with `nimports` imports in the module's import order, writing the
 * instance to `instance`. If the start function traps, returns NULL and sets `*trap`; other
 * failures are returned as an error. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_instance_new(wasmtime_context_t *store,
                                                        const wasmtime_module_t *module,
                                                        const wasmtime_extern_t *imports,
                                                        size_t nimports,
                                                        wasmtime_instance_t *instance,
                                                        wasm_trap_t **trap);

/* The export `name`; false if there is none. */
WASM_API_EXTERN bool wasmtime_instance_export_get(wasmtime_context_t *store,
                                                  const wasmtime_instance_t *instance,
                                                  const char *name, size_t name_len,
                                                  wasmtime_extern_t *item);

/* Export number `index`, with its name (owned by the store; use it before calling anything
 * else on the store); false if out of range. */
WASM_API_EXTERN bool wasmtime_instance_export_nth(wasmtime_context_t *store,
                                                  const wasmtime_instance_t *instance,
                                                  size_t index, char **name, size_t *name_len,
                                                  wasmtime_extern_t *item);

/* A module with imports already resolved by a linker (wasmtime_linker_instantiate_pre). */
typedef struct wasmtime_instance_pre wasmtime_instance_pre_t;

/* Frees an instance-pre. */
WASM_API_EXTERN void wasmtime_instance_pre_delete(wasmtime_instance_pre_t *instance_pre);

/* Instantiates in `store`; results as for wasmtime_instance_new. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_instance_pre_instantiate(
    const wasmtime_instance_pre_t *instance_pre, wasmtime_context_t *store,
    wasmtime_instance_t *instance, wasm_trap_t **trap_ptr);

/* The module (a new handle the caller must delete). */
WASM_API_EXTERN wasmtime_module_t *
wasmtime_instance_pre_module(wasmtime_instance_pre_t *instance_pre);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_INSTANCE_H */
