/*
 * wasmtime/engine.h: engine functions beyond wasm.h.
 */

#ifndef WASMTIME_ENGINE_H
#define WASMTIME_ENGINE_H

#include <wasm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Another owned handle to the same engine. */
WASM_API_EXTERN wasm_engine_t *wasmtime_engine_clone(wasm_engine_t *engine);

/* Advances the engine's epoch by one; safe from any thread (and signal handlers). */
WASM_API_EXTERN void wasmtime_engine_increment_epoch(wasm_engine_t *engine);

/* Whether the engine runs Pulley bytecode. Always false: wasmjit compiles to native code. */
WASM_API_EXTERN bool wasmtime_engine_is_pulley(wasm_engine_t *engine);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_ENGINE_H */
