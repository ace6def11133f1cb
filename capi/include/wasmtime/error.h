/*
 * wasmtime/error.h: errors returned by the wasmtime_* functions.
 */

#ifndef WASMTIME_ERROR_H
#define WASMTIME_ERROR_H

#include <wasm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An error; functions return an owned one (or NULL for success). */
typedef struct wasmtime_error wasmtime_error_t;

/* A new error with the NUL-terminated message `msg`. */
WASM_API_EXTERN wasmtime_error_t *wasmtime_error_new(const char *msg);

/* Frees an error. */
WASM_API_EXTERN void wasmtime_error_delete(wasmtime_error_t *error);

/* The error's message and causes (not NUL-terminated); the caller frees `message`. */
WASM_API_EXTERN void wasmtime_error_message(const wasmtime_error_t *error,
                                            wasm_name_t *message);

/* Whether the error is a WASI exit (the guest called proc_exit); if so *status is its code. */
WASM_API_EXTERN bool wasmtime_error_exit_status(const wasmtime_error_t *, int *status);

/* The wasm frames recorded with the error, innermost first (maybe none). */
WASM_API_EXTERN void wasmtime_error_wasm_trace(const wasmtime_error_t *, wasm_frame_vec_t *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_ERROR_H */
