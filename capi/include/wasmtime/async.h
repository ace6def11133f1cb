/*
 * wasmtime/async.h: async host functions, calls that can suspend, and custom fiber stacks.
 *
 * With async support configured, wasm runs on a separate stack and a call returns a future
 * the embedder polls. Async host functions return a continuation that is polled until it
 * is ready; fuel and epoch deadlines can make wasm yield instead of trapping.
 */

#ifndef WASMTIME_ASYNC_H
#define WASMTIME_ASYNC_H

#include <wasm.h>
#include <wasmtime/conf.h>
#include <wasmtime/config.h>
#include <wasmtime/error.h>
#include <wasmtime/func.h>
#include <wasmtime/linker.h>
#include <wasmtime/store.h>

#ifdef WASMTIME_FEATURE_ASYNC

#ifdef __cplusplus
extern "C" {
#endif

/* Enables the async functions of this header for engines made from the configuration. */
WASMTIME_CONFIG_PROP(void, async_support, bool)

/* The size of each async call's stack, which must exceed max_wasm_stack; the difference is
 * what host code running on that stack is guaranteed. */
WASMTIME_CONFIG_PROP(void, async_stack_size, uint64_t)

/* Makes async calls yield every `interval` units of fuel (and refuel from what is left). */
WASM_API_EXTERN wasmtime_error_t *
wasmtime_context_fuel_async_yield_interval(wasmtime_context_t *context, uint64_t interval);

/* When the epoch deadline is reached, yield and set the deadline `delta` epochs ahead. */
WASM_API_EXTERN wasmtime_error_t *
wasmtime_context_epoch_deadline_async_yield_and_update(wasmtime_context_t *context,
                                                       uint64_t delta);

/* Polled by the runtime until it returns true (the host operation is done). */
typedef bool (*wasmtime_func_async_continuation_callback_t)(void *env);

/* A pending host operation: polled through `callback`; `finalizer` (may be NULL) gets `env`
 * when it is no longer needed. */
typedef struct wasmtime_async_continuation_t {
  wasmtime_func_async_continuation_callback_t callback;
  void *env;
  void (*finalizer)(void *);
} wasmtime_async_continuation_t;

/* An async host function body. It either fills `results` and returns after setting
 * `*continuation_ret` (whose callback then decides when the results are final), or sets
 * `*trap_ret`. `args` and `results` stay valid until the continuation is done. */
typedef void (*wasmtime_func_async_callback_t)(void *env, wasmtime_caller_t *caller,
                                               const wasmtime_val_t *args, size_t nargs,
                                               wasmtime_val_t *results, size_t nresults,
                                               wasm_trap_t **trap_ret,
                                               wasmtime_async_continuation_t *continuation_ret);

/* A call in progress. */
typedef struct wasmtime_call_future wasmtime_call_future_t;

/* Runs the call until it is done (true) or suspends (false). Poll again after false. */
WASM_API_EXTERN bool wasmtime_call_future_poll(wasmtime_call_future_t *future);

/* Frees a future; a call still in progress is abandoned and the store stays usable. */
WASM_API_EXTERN void wasmtime_call_future_delete(wasmtime_call_future_t *future);

/* Starts an async call. The arguments, results, `trap_ret` and `error_ret` must stay valid
 * until the future is deleted; once polling returns true, the results are written, or a trap
 * or error is. Only one future per store at a time. */
WASM_API_EXTERN wasmtime_call_future_t *wasmtime_func_call_async(
    wasmtime_context_t *context, const wasmtime_func_t *func, const wasmtime_val_t *args,
    size_t nargs, wasmtime_val_t *results, size_t nresults, wasm_trap_t **trap_ret,
    wasmtime_error_t **error_ret);

/* Defines `module::name` as an async host function of type `ty`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_linker_define_async_func(
    wasmtime_linker_t *linker, const char *module, size_t module_len, const char *name,
    size_t name_len, const wasm_functype_t *ty, wasmtime_func_async_callback_t cb, void *data,
    void (*finalizer)(void *));

/* Instantiates `module` asynchronously (its start function may suspend). */
WASM_API_EXTERN wasmtime_call_future_t *wasmtime_linker_instantiate_async(
    const wasmtime_linker_t *linker, wasmtime_context_t *store, const wasmtime_module_t *module,
    wasmtime_instance_t *instance, wasm_trap_t **trap_ret, wasmtime_error_t **error_ret);

/* Instantiates an instance-pre asynchronously. */
WASM_API_EXTERN wasmtime_call_future_t *wasmtime_instance_pre_instantiate_async(
    const wasmtime_instance_pre_t *instance_pre, wasmtime_context_t *store,
    wasmtime_instance_t *instance, wasm_trap_t **trap_ret, wasmtime_error_t **error_ret);

/* Gives the top (highest address) of a stack and its length in `*out_len`. */
typedef uint8_t *(*wasmtime_stack_memory_get_callback_t)(void *env, size_t *out_len);

/* A stack made by the embedder. */
typedef struct {
  void *env;
  wasmtime_stack_memory_get_callback_t get_stack_memory;
  void (*finalizer)(void *);
} wasmtime_stack_memory_t;

/* Makes a stack of at least `size` bytes into `*stack_ret`, or returns an error. */
typedef wasmtime_error_t *(*wasmtime_new_stack_memory_callback_t)(
    void *env, size_t size, wasmtime_stack_memory_t *stack_ret);

/* The embedder's stack factory. */
typedef struct {
  void *env;
  wasmtime_new_stack_memory_callback_t new_stack;
  void (*finalizer)(void *);
} wasmtime_stack_creator_t;

/* Uses `creator` for every async call's stack. */
WASM_API_EXTERN void wasmtime_config_host_stack_creator_set(wasm_config_t *,
                                                            wasmtime_stack_creator_t *);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_FEATURE_ASYNC */

#endif /* WASMTIME_ASYNC_H */
