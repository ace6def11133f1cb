/*
 * wasmtime/config.h: settings of a wasm_config_t, applied when an engine is made from it.
 *
 * In wasmjit, settings that only tune machinery it does not have (debug info, unwind info,
 * copy-on-write memory images, Mach ports, the IR verifier, growth reservations) are
 * accepted and ignored. Asking for something it cannot do (GC, typed function references,
 * wide arithmetic, deterministic relaxed SIMD, NaN canonicalization, profiling, Cranelift
 * flags, a host memory creator) makes wasm_engine_new_with_config fail with a message.
 */

#ifndef WASMTIME_CONFIG_H
#define WASMTIME_CONFIG_H

#include <wasm.h>
#include <wasmtime/conf.h>
#include <wasmtime/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which compiler to use. */
typedef uint8_t wasmtime_strategy_t;
enum wasmtime_strategy_enum {
  WASMTIME_STRATEGY_AUTO,
  WASMTIME_STRATEGY_CRANELIFT,
};

/* How much Cranelift optimizes. */
typedef uint8_t wasmtime_opt_level_t;
enum wasmtime_opt_level_enum {
  WASMTIME_OPT_LEVEL_NONE,
  WASMTIME_OPT_LEVEL_SPEED,
  WASMTIME_OPT_LEVEL_SPEED_AND_SIZE,
};

/* Which profiler to feed (wasmjit: none). */
typedef uint8_t wasmtime_profiling_strategy_t;
enum wasmtime_profiling_strategy_enum {
  WASMTIME_PROFILING_STRATEGY_NONE,
  WASMTIME_PROFILING_STRATEGY_JITDUMP,
  WASMTIME_PROFILING_STRATEGY_VTUNE,
  WASMTIME_PROFILING_STRATEGY_PERFMAP,
};

/* Declares the setter `wasmtime_config_NAME_set(wasm_config_t *, TY)` returning RET. */
#define WASMTIME_CONFIG_PROP(ret, name, ty)                                                  \
  WASM_API_EXTERN ret wasmtime_config_##name##_set(wasm_config_t *, ty);

/* DWARF for guest code (ignored). */
WASMTIME_CONFIG_PROP(void, debug_info, bool)
/* Meter execution with fuel (see wasmtime_context_set_fuel). */
WASMTIME_CONFIG_PROP(void, consume_fuel, bool)
/* Check epoch deadlines (see wasmtime_context_set_epoch_deadline). */
WASMTIME_CONFIG_PROP(void, epoch_interruption, bool)
/* Bytes of native stack wasm may use per call from the host. */
WASMTIME_CONFIG_PROP(void, max_wasm_stack, size_t)

/* The threads proposal (on by default): shared memories, atomics, wait/notify. */
WASMTIME_CONFIG_PROP(void, wasm_threads, bool)

/* WebAssembly proposals. */
WASMTIME_CONFIG_PROP(void, wasm_tail_call, bool)
WASMTIME_CONFIG_PROP(void, wasm_reference_types, bool)
WASMTIME_CONFIG_PROP(void, wasm_function_references, bool)
WASMTIME_CONFIG_PROP(void, wasm_gc, bool)
WASMTIME_CONFIG_PROP(void, wasm_simd, bool)
WASMTIME_CONFIG_PROP(void, wasm_relaxed_simd, bool)
WASMTIME_CONFIG_PROP(void, wasm_relaxed_simd_deterministic, bool)
WASMTIME_CONFIG_PROP(void, wasm_bulk_memory, bool)
WASMTIME_CONFIG_PROP(void, wasm_multi_value, bool)
WASMTIME_CONFIG_PROP(void, wasm_multi_memory, bool)
WASMTIME_CONFIG_PROP(void, wasm_memory64, bool)
WASMTIME_CONFIG_PROP(void, wasm_wide_arithmetic, bool)
/* Exception handling (tags, throw, try_table, exnref); off by default. Newer Wasmtime
 * versions have this setter; Wasmtime 29 does not. */
WASMTIME_CONFIG_PROP(void, wasm_exceptions, bool)

#ifdef WASMTIME_FEATURE_COMPILER
/* The compiler (AUTO and CRANELIFT both mean Cranelift). */
WASMTIME_CONFIG_PROP(void, strategy, wasmtime_strategy_t)
#endif

#ifdef WASMTIME_FEATURE_PARALLEL_COMPILATION
/* Compile functions on several threads. */
WASMTIME_CONFIG_PROP(void, parallel_compilation, bool)
#endif

#ifdef WASMTIME_FEATURE_COMPILER
/* Extra IR verification (ignored). */
WASMTIME_CONFIG_PROP(void, cranelift_debug_verifier, bool)
/* Canonical NaNs out of float operations (unsupported). */
WASMTIME_CONFIG_PROP(void, cranelift_nan_canonicalization, bool)
/* Cranelift's optimization level. */
WASMTIME_CONFIG_PROP(void, cranelift_opt_level, wasmtime_opt_level_t)
#endif

/* Profiling (only NONE is supported). */
WASMTIME_CONFIG_PROP(void, profiler, wasmtime_profiling_strategy_t)
/* Whether linear memories may move when they grow (ignored). */
WASMTIME_CONFIG_PROP(void, memory_may_move, bool)
/* Address space reserved per linear memory, in bytes. */
WASMTIME_CONFIG_PROP(void, memory_reservation, uint64_t)
/* Guard region after each linear memory, in bytes. */
WASMTIME_CONFIG_PROP(void, memory_guard_size, uint64_t)
/* Extra reservation for moved memories (ignored). */
WASMTIME_CONFIG_PROP(void, memory_reservation_for_growth, uint64_t)
/* Native unwind tables for guest code (ignored). */
WASMTIME_CONFIG_PROP(void, native_unwind_info, bool)

#ifdef WASMTIME_FEATURE_CACHE
/* Loads a compilation cache configuration: NULL for the defaults, or a file that must be
 * readable. wasmjit caches nothing (serialized modules are compiled again), so this only
 * checks the file. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_config_cache_config_load(wasm_config_t *,
                                                                    const char *);
#endif

/* The target triple to compile for; only the host's is accepted. */
WASMTIME_CONFIG_PROP(wasmtime_error_t *, target, const char *)

#ifdef WASMTIME_FEATURE_COMPILER
/* Cranelift settings (unsupported). */
WASM_API_EXTERN void wasmtime_config_cranelift_flag_enable(wasm_config_t *, const char *);
WASM_API_EXTERN void wasmtime_config_cranelift_flag_set(wasm_config_t *, const char *key,
                                                        const char *value);
#endif

/* Mach ports for traps on macOS (ignored). */
WASMTIME_CONFIG_PROP(void, macos_use_mach_ports, bool)

/* A custom linear memory: its bytes and capacity, and how to grow it. */
typedef uint8_t *(*wasmtime_memory_get_callback_t)(void *env, size_t *byte_size,
                                                   size_t *byte_capacity);
typedef wasmtime_error_t *(*wasmtime_memory_grow_callback_t)(void *env, size_t new_size);

typedef struct wasmtime_linear_memory {
  void *env;
  wasmtime_memory_get_callback_t get_memory;
  wasmtime_memory_grow_callback_t grow_memory;
  void (*finalizer)(void *);
} wasmtime_linear_memory_t;

/* Makes a custom linear memory of the given type and sizes. */
typedef wasmtime_error_t *(*wasmtime_new_memory_callback_t)(
    void *env, const wasm_memorytype_t *ty, size_t minimum, size_t maximum,
    size_t reserved_size_in_bytes, size_t guard_size_in_bytes,
    wasmtime_linear_memory_t *memory_ret);

typedef struct wasmtime_memory_creator {
  void *env;
  wasmtime_new_memory_callback_t new_memory;
  void (*finalizer)(void *);
} wasmtime_memory_creator_t;

/* Uses the embedder's memories (unsupported; the finalizer still runs). */
WASM_API_EXTERN void wasmtime_config_host_memory_creator_set(wasm_config_t *,
                                                             wasmtime_memory_creator_t *);

/* Copy-on-write memory initialization (ignored). */
WASMTIME_CONFIG_PROP(void, memory_init_cow, bool)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_CONFIG_H */
