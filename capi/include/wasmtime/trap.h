/*
 * wasmtime/trap.h: trap codes and frame names.
 */

#ifndef WASMTIME_TRAP_H
#define WASMTIME_TRAP_H

#include <wasm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Why wasm trapped. */
typedef uint8_t wasmtime_trap_code_t;
enum wasmtime_trap_code_enum {
  WASMTIME_TRAP_CODE_STACK_OVERFLOW,
  WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS,
  WASMTIME_TRAP_CODE_HEAP_MISALIGNED,
  WASMTIME_TRAP_CODE_TABLE_OUT_OF_BOUNDS,
  WASMTIME_TRAP_CODE_INDIRECT_CALL_TO_NULL,
  WASMTIME_TRAP_CODE_BAD_SIGNATURE,
  WASMTIME_TRAP_CODE_INTEGER_OVERFLOW,
  WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO,
  WASMTIME_TRAP_CODE_BAD_CONVERSION_TO_INTEGER,
  WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED,
  WASMTIME_TRAP_CODE_INTERRUPT,
  WASMTIME_TRAP_CODE_OUT_OF_FUEL,
};

/* A new trap with a message of `msg_len` bytes (owned by the caller). */
WASM_API_EXTERN wasm_trap_t *wasmtime_trap_new(const char *msg, size_t msg_len);

/* Whether the trap came from wasm itself, and why; false for traps made by the host. */
WASM_API_EXTERN bool wasmtime_trap_code(const wasm_trap_t *, wasmtime_trap_code_t *code);

/* The frame's function name from the name section, or NULL (owned by the frame). */
WASM_API_EXTERN const wasm_name_t *wasmtime_frame_func_name(const wasm_frame_t *);

/* The frame's module name from the name section, or NULL (owned by the frame). */
WASM_API_EXTERN const wasm_name_t *wasmtime_frame_module_name(const wasm_frame_t *);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_TRAP_H */
