/*
 * wasmtime/func.h: host functions and calls.
 */

#ifndef WASMTIME_FUNC_H
#define WASMTIME_FUNC_H

#include <wasm.h>
#include <wasmtime/extern.h>
#include <wasmtime/store.h>
#include <wasmtime/val.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a host function knows of its caller; valid only during the call. */
typedef struct wasmtime_caller wasmtime_caller_t;

/* A host function body: reads `nargs` arguments, writes `nresults` results, and returns
 * NULL or an owned trap. */
typedef wasm_trap_t *(*wasmtime_func_callback_t)(void *env, wasmtime_caller_t *caller,
                                                 const wasmtime_val_t *args, size_t nargs,
                                                 wasmtime_val_t *results, size_t nresults);

/* A new host function of type `ty` in the store, writing its handle to `ret`. `finalizer`
 * (may be NULL) gets `env` when the store is deleted. */
WASM_API_EXTERN void wasmtime_func_new(wasmtime_context_t *store, const wasm_functype_t *type,
                                       wasmtime_func_callback_t callback, void *env,
                                       void (*finalizer)(void *), wasmtime_func_t *ret);

/* A host function body on raw values: arguments are read from, and results written to,
 * the same buffer of max(params, results) slots. */
typedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(void *env, wasmtime_caller_t *caller,
                                                           wasmtime_val_raw_t *args_and_results,
                                                           size_t num_args_and_results);

/* Like wasmtime_func_new, with a raw-value body. */
WASM_API_EXTERN void wasmtime_func_new_unchecked(wasmtime_context_t *store,
                                                 const wasm_functype_t *type,
                                                 wasmtime_func_unchecked_callback_t callback,
                                                 void *env, void (*finalizer)(void *),
                                                 wasmtime_func_t *ret);

/* The function's type (owned by the caller). */
WASM_API_EXTERN wasm_functype_t *wasmtime_func_type(const wasmtime_context_t *store,
                                                    const wasmtime_func_t *func);

/* Calls the function. On success returns NULL with the results written. If wasm traps,
 * returns NULL and sets `*trap` to an owned trap. Any other failure (bad arguments, an
 * error from a host function) is returned as an owned error. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_func_call(wasmtime_context_t *store,
                                                     const wasmtime_func_t *func,
                                                     const wasmtime_val_t *args, size_t nargs,
                                                     wasmtime_val_t *results, size_t nresults,
                                                     wasm_trap_t **trap);

/* Like wasmtime_func_call with raw values: the buffer holds the arguments on entry and the
 * results on return, and must have max(params, results) slots. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_func_call_unchecked(wasmtime_context_t *store,
                                                               const wasmtime_func_t *func,
                                                               wasmtime_val_raw_t *args_and_results,
                                                               size_t args_and_results_len,
                                                               wasm_trap_t **trap);

/* The calling instance's export `name`; false if it has none (or there is no instance). */
WASM_API_EXTERN bool wasmtime_caller_export_get(wasmtime_caller_t *caller, const char *name,
                                                size_t name_len, wasmtime_extern_t *item);

/* The context of the store the call runs in. */
WASM_API_EXTERN wasmtime_context_t *wasmtime_caller_context(wasmtime_caller_t *caller);

/* The function of a raw funcref. */
WASM_API_EXTERN void wasmtime_func_from_raw(wasmtime_context_t *context, void *raw,
                                            wasmtime_func_t *ret);

/* The raw funcref of a function. */
WASM_API_EXTERN void *wasmtime_func_to_raw(wasmtime_context_t *context,
                                           const wasmtime_func_t *func);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_FUNC_H */
