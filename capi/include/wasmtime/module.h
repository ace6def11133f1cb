/*
 * wasmtime/module.h: compiled modules.
 */

#ifndef WASMTIME_MODULE_H
#define WASMTIME_MODULE_H

#include <wasm.h>
#include <wasmtime/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A compiled module; can be instantiated in any store of its engine. */
typedef struct wasmtime_module wasmtime_module_t;

#ifdef WASMTIME_FEATURE_COMPILER
/* Compiles a binary module into `*ret` (owned). Returns NULL or an owned error. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_module_new(wasm_engine_t *engine,
                                                      const uint8_t *wasm, size_t wasm_len,
                                                      wasmtime_module_t **ret);
#endif

/* Frees a module handle. */
WASM_API_EXTERN void wasmtime_module_delete(wasmtime_module_t *m);

/* Another owned handle to the same module. */
WASM_API_EXTERN wasmtime_module_t *wasmtime_module_clone(wasmtime_module_t *m);

/* The module's imports and exports; the caller frees the vectors. */
WASM_API_EXTERN void wasmtime_module_imports(const wasmtime_module_t *module,
                                             wasm_importtype_vec_t *out);
WASM_API_EXTERN void wasmtime_module_exports(const wasmtime_module_t *module,
                                             wasm_exporttype_vec_t *out);

#ifdef WASMTIME_FEATURE_COMPILER
/* Validates a binary module without compiling it. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_module_validate(wasm_engine_t *engine,
                                                           const uint8_t *wasm,
                                                           size_t wasm_len);
/* Serializes the module into bytes that wasmtime_module_deserialize loads. wasmjit stores the
 * validated binary and compiles it again when loading. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_module_serialize(wasmtime_module_t *module,
                                                            wasm_byte_vec_t *ret);
#endif

/* Loads a module from wasmtime_module_serialize's bytes (an error for any other bytes). */
WASM_API_EXTERN wasmtime_error_t *wasmtime_module_deserialize(wasm_engine_t *engine,
                                                              const uint8_t *bytes,
                                                              size_t bytes_len,
                                                              wasmtime_module_t **ret);
WASM_API_EXTERN wasmtime_error_t *wasmtime_module_deserialize_file(wasm_engine_t *engine,
                                                                   const char *path,
                                                                   wasmtime_module_t **ret);

/* The address range of the module's code (wasmjit does not expose it: both NULL). */
WASM_API_EXTERN void wasmtime_module_image_range(const wasmtime_module_t *module,
                                                 void **start, void **end);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_MODULE_H */
