/*
 * wasmtime/profiling.h: the guest profiler. Declared only with WASMTIME_FEATURE_PROFILING,
 * which wasmjit does not provide.
 */

#ifndef WASMTIME_PROFILING_H
#define WASMTIME_PROFILING_H

#include <wasm.h>
#include <wasmtime/conf.h>
#include <wasmtime/error.h>

#ifdef WASMTIME_FEATURE_PROFILING

#ifdef __cplusplus
extern "C" {
#endif

/* A profiler sampling guest stacks. */
typedef struct wasmtime_guestprofiler wasmtime_guestprofiler_t;

WASM_API_EXTERN void wasmtime_guestprofiler_delete(wasmtime_guestprofiler_t *guestprofiler);

/* A module to symbolize, with the name to record for it. */
typedef struct wasmtime_guestprofiler_modules {
  const wasm_name_t *name;
  const wasmtime_module_t *mod;
} wasmtime_guestprofiler_modules_t;

WASM_API_EXTERN wasmtime_guestprofiler_t *
wasmtime_guestprofiler_new(const wasm_name_t *module_name, uint64_t interval_nanos,
                           const wasmtime_guestprofiler_modules_t *modules, size_t modules_len);

WASM_API_EXTERN void wasmtime_guestprofiler_sample(wasmtime_guestprofiler_t *guestprofiler,
                                                   const wasmtime_store_t *store,
                                                   uint64_t delta_nanos);

WASM_API_EXTERN wasmtime_error_t *
wasmtime_guestprofiler_finish(wasmtime_guestprofiler_t *guestprofiler, wasm_byte_vec_t *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_FEATURE_PROFILING */

#endif /* WASMTIME_PROFILING_H */
