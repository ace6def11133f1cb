/*
 * wasmtime/conf.h: which optional parts of the C API this build of wasmjit provides.
 * Declarations of the other headers are guarded by these macros.
 */

#ifndef WASMTIME_CONF_H
#define WASMTIME_CONF_H

/* Provided. */
#define WASMTIME_FEATURE_WAT
#define WASMTIME_FEATURE_PARALLEL_COMPILATION
#define WASMTIME_FEATURE_ASYNC
#define WASMTIME_FEATURE_CRANELIFT
#define WASMTIME_FEATURE_WASI
#define WASMTIME_FEATURE_THREADS
/* The compilation cache's configuration call is accepted; nothing is cached. */
#define WASMTIME_FEATURE_CACHE

/* Not provided (left undefined): WASMTIME_FEATURE_PROFILING, WASMTIME_FEATURE_LOGGING, WASMTIME_FEATURE_DISABLE_LOGGING,
 * WASMTIME_FEATURE_COREDUMP, WASMTIME_FEATURE_ADDR2LINE, WASMTIME_FEATURE_DEMANGLE,
 * WASMTIME_FEATURE_GC, WASMTIME_FEATURE_GC_DRC,
 * WASMTIME_FEATURE_GC_NULL, WASMTIME_FEATURE_WINCH, WASMTIME_FEATURE_DEBUG_BUILTINS. */

/* A compiler is available when Cranelift (or Winch) is. */
#if defined(WASMTIME_FEATURE_CRANELIFT) || defined(WASMTIME_FEATURE_WINCH)
#define WASMTIME_FEATURE_COMPILER
#endif

#endif /* WASMTIME_CONF_H */
