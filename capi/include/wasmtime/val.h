/*
 * wasmtime/val.h: values and references.
 *
 * In wasmjit, externrefs live as long as their store, so "unrooting" releases nothing, and
 * every non-null anyref is an i31ref (GC objects are not built yet), whose handle holds its
 * value: cloning and unrooting one costs nothing.
 */

#ifndef WASMTIME_VAL_H
#define WASMTIME_VAL_H

#include <wasm.h>
#include <wasmtime/extern.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A reference of the GC proposal (`store_id` 0: null). */
typedef struct wasmtime_anyref {
  uint64_t store_id;
  uint32_t __private1;
  uint32_t __private2;
} wasmtime_anyref_t;

static inline void wasmtime_anyref_set_null(wasmtime_anyref_t *ref) { ref->store_id = 0; }
static inline bool wasmtime_anyref_is_null(const wasmtime_anyref_t *ref) {
  return ref->store_id == 0;
}

/* Copies an anyref. */
WASM_API_EXTERN void wasmtime_anyref_clone(wasmtime_context_t *context,
                                           const wasmtime_anyref_t *anyref,
                                           wasmtime_anyref_t *out);
/* Releases an anyref (the handle becomes null). */
WASM_API_EXTERN void wasmtime_anyref_unroot(wasmtime_context_t *context, wasmtime_anyref_t *ref);
/* The anyref of a raw value (null for 0 or a value that is no anyref). */
WASM_API_EXTERN void wasmtime_anyref_from_raw(wasmtime_context_t *context, uint32_t raw,
                                              wasmtime_anyref_t *out);
/* The raw value of an anyref (0 for null). */
WASM_API_EXTERN uint32_t wasmtime_anyref_to_raw(wasmtime_context_t *context,
                                                const wasmtime_anyref_t *ref);
/* The i31ref of the low 31 bits of `i31val`. */
WASM_API_EXTERN void wasmtime_anyref_from_i31(wasmtime_context_t *context, uint32_t i31val,
                                              wasmtime_anyref_t *out);
/* The value of an i31ref, zero- or sign-extended; false (nothing written) if it is not one. */
WASM_API_EXTERN bool wasmtime_anyref_i31_get_u(wasmtime_context_t *context,
                                               const wasmtime_anyref_t *anyref, uint32_t *dst);
WASM_API_EXTERN bool wasmtime_anyref_i31_get_s(wasmtime_context_t *context,
                                               const wasmtime_anyref_t *anyref, int32_t *dst);

/* A reference to host data (`store_id` 0: null). */
typedef struct wasmtime_externref {
  uint64_t store_id;
  uint32_t __private1;
  uint32_t __private2;
} wasmtime_externref_t;

static inline void wasmtime_externref_set_null(wasmtime_externref_t *ref) { ref->store_id = 0; }
static inline bool wasmtime_externref_is_null(const wasmtime_externref_t *ref) {
  return ref->store_id == 0;
}

/* A new externref holding `data`; `finalizer` (may be NULL) gets `data` when the store is
 * deleted. False if it could not be made. */
WASM_API_EXTERN bool wasmtime_externref_new(wasmtime_context_t *context, void *data,
                                            void (*finalizer)(void *), wasmtime_externref_t *out);
/* The data the externref was made with (NULL for null). */
WASM_API_EXTERN void *wasmtime_externref_data(wasmtime_context_t *context,
                                              const wasmtime_externref_t *data);
/* Copies an externref. */
WASM_API_EXTERN void wasmtime_externref_clone(wasmtime_context_t *context,
                                              const wasmtime_externref_t *ref,
                                              wasmtime_externref_t *out);
/* Releases an externref (nothing to do). */
WASM_API_EXTERN void wasmtime_externref_unroot(wasmtime_context_t *context,
                                               wasmtime_externref_t *ref);
/* The externref of a raw value (0: null). */
WASM_API_EXTERN void wasmtime_externref_from_raw(wasmtime_context_t *context, uint32_t raw,
                                                 wasmtime_externref_t *out);
/* The raw value of an externref (0 for null). */
WASM_API_EXTERN uint32_t wasmtime_externref_to_raw(wasmtime_context_t *context,
                                                   const wasmtime_externref_t *ref);

/* The kind of a wasmtime_val_t. */
typedef uint8_t wasmtime_valkind_t;
#define WASMTIME_I32 0
#define WASMTIME_I64 1
#define WASMTIME_F32 2
#define WASMTIME_F64 3
#define WASMTIME_V128 4
#define WASMTIME_FUNCREF 5
#define WASMTIME_EXTERNREF 6
#define WASMTIME_ANYREF 7

/* A 128-bit vector, little-endian. */
typedef uint8_t wasmtime_v128[16];

/* The payload of a wasmtime_val_t. */
typedef union wasmtime_valunion {
  int32_t i32;
  int64_t i64;
  float32_t f32;
  float64_t f64;
  wasmtime_anyref_t anyref;
  wasmtime_externref_t externref;
  wasmtime_func_t funcref;
  wasmtime_v128 v128;
} wasmtime_valunion_t;

static inline void wasmtime_funcref_set_null(wasmtime_func_t *func) { func->store_id = 0; }
static inline bool wasmtime_funcref_is_null(const wasmtime_func_t *func) {
  return func->store_id == 0;
}

/* An untyped value slot, as used by the `_unchecked` functions: the function's type says
 * which field holds each value. */
typedef union wasmtime_val_raw {
  int32_t i32;
  int64_t i64;
  float32_t f32;
  float64_t f64;
  wasmtime_v128 v128;
  uint32_t anyref;
  uint32_t externref;
  void *funcref;
} wasmtime_val_raw_t;

#if defined(__cplusplus)
static_assert(sizeof(wasmtime_valunion_t) == 16, "wasmtime_valunion_t is 16 bytes");
static_assert(alignof(wasmtime_valunion_t) == 8, "wasmtime_valunion_t is 8-byte aligned");
static_assert(sizeof(wasmtime_val_raw_t) == 16, "wasmtime_val_raw_t is 16 bytes");
static_assert(alignof(wasmtime_val_raw_t) == 8, "wasmtime_val_raw_t is 8-byte aligned");
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(wasmtime_valunion_t) == 16, "wasmtime_valunion_t is 16 bytes");
_Static_assert(_Alignof(wasmtime_valunion_t) == 8, "wasmtime_valunion_t is 8-byte aligned");
_Static_assert(sizeof(wasmtime_val_raw_t) == 16, "wasmtime_val_raw_t is 16 bytes");
_Static_assert(_Alignof(wasmtime_val_raw_t) == 8, "wasmtime_val_raw_t is 8-byte aligned");
#endif

/* A typed value. */
typedef struct wasmtime_val {
  wasmtime_valkind_t kind;
  wasmtime_valunion_t of;
} wasmtime_val_t;

/* Releases the value's reference, if any (nothing to do). */
WASM_API_EXTERN void wasmtime_val_unroot(wasmtime_context_t *context, wasmtime_val_t *val);

/* Copies a value. */
WASM_API_EXTERN void wasmtime_val_clone(wasmtime_context_t *context, const wasmtime_val_t *src,
                                        wasmtime_val_t *dst);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_VAL_H */
