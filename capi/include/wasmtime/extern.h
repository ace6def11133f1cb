/*
 * wasmtime/extern.h: handles to the items of a store, and externs (any of them).
 *
 * Handles are plain structs naming an item of a store; they need no freeing and stay valid
 * as long as the store. Using a handle with another store is an error.
 */

#ifndef WASMTIME_EXTERN_H
#define WASMTIME_EXTERN_H

#include <wasmtime/module.h>
#include <wasmtime/sharedmemory.h>
#include <wasmtime/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A function of a store. A `store_id` of 0 is the null funcref. */
typedef struct wasmtime_func {
  uint64_t store_id;
  size_t __private;
} wasmtime_func_t;

/* A table of a store. */
typedef struct wasmtime_table {
  uint64_t store_id;
  size_t __private;
} wasmtime_table_t;

/* A linear memory of a store. */
typedef struct wasmtime_memory {
  uint64_t store_id;
  size_t __private;
} wasmtime_memory_t;

/* A global of a store. */
typedef struct wasmtime_global {
  uint64_t store_id;
  size_t __private;
} wasmtime_global_t;

/* Which kind of item a wasmtime_extern_t holds. */
typedef uint8_t wasmtime_extern_kind_t;
#define WASMTIME_EXTERN_FUNC 0
#define WASMTIME_EXTERN_GLOBAL 1
#define WASMTIME_EXTERN_TABLE 2
#define WASMTIME_EXTERN_MEMORY 3
#define WASMTIME_EXTERN_SHAREDMEMORY 4

/* The item of a wasmtime_extern_t, selected by its kind. */
typedef union wasmtime_extern_union {
  wasmtime_func_t func;
  wasmtime_global_t global;
  wasmtime_table_t table;
  wasmtime_memory_t memory;
  struct wasmtime_sharedmemory *sharedmemory;
} wasmtime_extern_union_t;

/* Any item: an import or an export. */
typedef struct wasmtime_extern {
  wasmtime_extern_kind_t kind;
  wasmtime_extern_union_t of;
} wasmtime_extern_t;

/* Releases an extern: frees a shared memory handle (other handles belong to their store). */
WASM_API_EXTERN void wasmtime_extern_delete(wasmtime_extern_t *val);

/* The extern's type (owned by the caller). */
WASM_API_EXTERN wasm_externtype_t *wasmtime_extern_type(wasmtime_context_t *context,
                                                        wasmtime_extern_t *val);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_EXTERN_H */
