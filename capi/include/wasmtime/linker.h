/*
 * wasmtime/linker.h: resolving imports by name.
 */

#ifndef WASMTIME_LINKER_H
#define WASMTIME_LINKER_H

#include <wasm.h>
#include <wasmtime/conf.h>
#include <wasmtime/error.h>
#include <wasmtime/extern.h>
#include <wasmtime/func.h>
#include <wasmtime/instance.h>
#include <wasmtime/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Definitions by `module::name`, for instantiating modules. Host functions defined here are
 * made afresh in each store they are used in. */
typedef struct wasmtime_linker wasmtime_linker_t;

/* An empty linker for `engine`. */
WASM_API_EXTERN wasmtime_linker_t *wasmtime_linker_new(wasm_engine_t *engine);

/* A copy with the same definitions. */
WASM_API_EXTERN wasmtime_linker_t *wasmtime_linker_clone(wasmtime_linker_t *linker);

/* Frees a linker. */
WASM_API_EXTERN void wasmtime_linker_delete(wasmtime_linker_t *linker);

/* Whether a second definition of a name replaces the first (default: an error). */
WASM_API_EXTERN void wasmtime_linker_allow_shadowing(wasmtime_linker_t *linker,
                                                     bool allow_shadowing);

/* Defines `module::name` as `item` of `store`. Names must be UTF-8. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_linker_define(wasmtime_linker_t *linker,
                                                         wasmtime_context_t *store,
                                                         const char *module, size_t module_len,
                                                         const char *name, size_t name_len,
                                                         const wasmtime_extern_t *item);

/* Defines `module::name` as a host function of type `ty`. `finalizer` (may be NULL) gets
 * `data` once the linker and the functions made from it are gone, or at once on failure. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_linker_define_func(
    wasmtime_linker_t *linker, const char *module, size_t module_len, const char *name,
    size_t name_len, const wasm_functype_t *ty, wasmtime_func_callback_t cb, void *data,
    void (*finalizer)(void *));

/* Like wasmtime_linker_define_func, with a raw-value body. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_linker_define_func_unchecked(
    wasmtime_linker_t *linker, const char *module, size_t module_len, const char *name,
    size_t name_len, const wasm_functype_t *ty, wasmtime_func_unchecked_callback_t cb,
    void *data, void (*finalizer)(void *));

#ifdef WASMTIME_FEATURE_WASI
/* Defines the `wasi_snapshot_preview1` functions; they use the WASI context of the store they
 * run in (see wasmtime_context_set_wasi), an empty one if none was set. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_linker_define_wasi(wasmtime_linker_t *linker);
#endif

/* Defines every export of `instance` under the module name `name`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_linker_define_instance(
    wasmtime_linker_t *linker, wasmtime_context_t *store, const char *name, size_t name_len,
    const wasmtime_instance_t *instance);

/* Instantiates `module` with its imports resolved by name; results as for
 * wasmtime_instance_new. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_linker_instantiate(const wasmtime_linker_t *linker,
                                                              wasmtime_context_t *store,
                                                              const wasmtime_module_t *module,
                                                              wasmtime_instance_t *instance,
                                                              wasm_trap_t **trap);

/* Instantiates `module` and defines its exports under `name`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_linker_module(wasmtime_linker_t *linker,
                                                         wasmtime_context_t *store,
                                                         const char *name, size_t name_len,
                                                         const wasmtime_module_t *module);

/* The default function of module `name`: its "" export, else "_start", else a function that
 * does nothing. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_linker_get_default(const wasmtime_linker_t *linker,
                                                              wasmtime_context_t *store,
                                                              const char *name, size_t name_len,
                                                              wasmtime_func_t *func);

/* The item defined as `module::name`, in `store`; false if there is none. */
WASM_API_EXTERN bool wasmtime_linker_get(const wasmtime_linker_t *linker,
                                         wasmtime_context_t *store, const char *module,
                                         size_t module_len, const char *name, size_t name_len,
                                         wasmtime_extern_t *item);

/* Resolves `module`'s imports once, into `*instance_pre` (owned), for instantiating many
 * times in any store. */
WASM_API_EXTERN wasmtime_error_t *
wasmtime_linker_instantiate_pre(const wasmtime_linker_t *linker, const wasmtime_module_t *module,
                                wasmtime_instance_pre_t **instance_pre);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_LINKER_H */
