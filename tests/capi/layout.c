/* Sizes, alignments, offsets and constant values of the C API's public structs. */
#include <stdalign.h>
#include <stddef.h>
#include <wasmtime.h>
#include "check.h"

_Static_assert(sizeof(wasm_val_t) == 16, "wasm_val_t");
_Static_assert(offsetof(wasm_val_t, of) == 8, "wasm_val_t.of");
_Static_assert(sizeof(wasm_limits_t) == 8, "wasm_limits_t");
_Static_assert(sizeof(wasm_byte_vec_t) == 2 * sizeof(void *), "wasm_byte_vec_t");
_Static_assert(offsetof(wasm_byte_vec_t, data) == sizeof(size_t), "wasm_byte_vec_t.data");

_Static_assert(sizeof(wasmtime_func_t) == 16, "wasmtime_func_t");
_Static_assert(offsetof(wasmtime_func_t, __private) == 8, "wasmtime_func_t.__private");
_Static_assert(sizeof(wasmtime_memory_t) == 16, "wasmtime_memory_t");
_Static_assert(sizeof(wasmtime_table_t) == 16, "wasmtime_table_t");
_Static_assert(sizeof(wasmtime_global_t) == 16, "wasmtime_global_t");
_Static_assert(sizeof(wasmtime_instance_t) == 16, "wasmtime_instance_t");
_Static_assert(offsetof(wasmtime_instance_t, index) == 8, "wasmtime_instance_t.index");
_Static_assert(sizeof(wasmtime_extern_t) == 24, "wasmtime_extern_t");
_Static_assert(offsetof(wasmtime_extern_t, of) == 8, "wasmtime_extern_t.of");

_Static_assert(sizeof(wasmtime_externref_t) == 16, "wasmtime_externref_t");
_Static_assert(offsetof(wasmtime_externref_t, __private1) == 8, "__private1");
_Static_assert(offsetof(wasmtime_externref_t, __private2) == 12, "__private2");
_Static_assert(sizeof(wasmtime_anyref_t) == 16, "wasmtime_anyref_t");
_Static_assert(sizeof(wasmtime_valunion_t) == 16, "wasmtime_valunion_t");
_Static_assert(alignof(wasmtime_valunion_t) == 8, "wasmtime_valunion_t align");
_Static_assert(sizeof(wasmtime_val_t) == 24, "wasmtime_val_t");
_Static_assert(offsetof(wasmtime_val_t, of) == 8, "wasmtime_val_t.of");
_Static_assert(sizeof(wasmtime_val_raw_t) == 16, "wasmtime_val_raw_t");
_Static_assert(alignof(wasmtime_val_raw_t) == 8, "wasmtime_val_raw_t align");

_Static_assert(WASMTIME_I32 == 0 && WASMTIME_I64 == 1 && WASMTIME_F32 == 2 &&
                   WASMTIME_F64 == 3 && WASMTIME_V128 == 4 && WASMTIME_FUNCREF == 5 &&
                   WASMTIME_EXTERNREF == 6 && WASMTIME_ANYREF == 7,
               "wasmtime_valkind_t values");
_Static_assert(WASM_I32 == 0 && WASM_I64 == 1 && WASM_F32 == 2 && WASM_F64 == 3 &&
                   WASM_EXTERNREF == 128 && WASM_FUNCREF == 129,
               "wasm_valkind_t values");
_Static_assert(WASM_EXTERN_FUNC == 0 && WASM_EXTERN_GLOBAL == 1 && WASM_EXTERN_TABLE == 2 &&
                   WASM_EXTERN_MEMORY == 3,
               "wasm_externkind_t values");
_Static_assert(WASMTIME_EXTERN_FUNC == 0 && WASMTIME_EXTERN_SHAREDMEMORY == 4,
               "wasmtime_extern_kind_t values");
_Static_assert(WASMTIME_TRAP_CODE_STACK_OVERFLOW == 0 && WASMTIME_TRAP_CODE_OUT_OF_FUEL == 11,
               "wasmtime_trap_code_t values");
_Static_assert(WASM_CONST == 0 && WASM_VAR == 1, "wasm_mutability_t values");
_Static_assert(WASMTIME_UPDATE_DEADLINE_CONTINUE == 0 && WASMTIME_UPDATE_DEADLINE_YIELD == 1,
               "wasmtime_update_deadline_kind_t values");
_Static_assert(WASMTIME_OPT_LEVEL_SPEED_AND_SIZE == 2 && WASMTIME_STRATEGY_CRANELIFT == 1,
               "config enum values");
_Static_assert(WASMTIME_VERSION_MAJOR == 29, "version");

#ifndef WASMTIME_FEATURE_COMPILER
#error "conf.h should define WASMTIME_FEATURE_COMPILER"
#endif
#ifndef WASMTIME_FEATURE_WASI
#error "conf.h should define WASMTIME_FEATURE_WASI"
#endif
_Static_assert(WASMTIME_WASI_DIR_PERMS_READ == 1 && WASMTIME_WASI_DIR_PERMS_WRITE == 2 &&
                   WASMTIME_WASI_FILE_PERMS_READ == 1 && WASMTIME_WASI_FILE_PERMS_WRITE == 2,
               "wasi perms values");
_Static_assert(sizeof(wasi_dir_perms) == sizeof(size_t), "wasi_dir_perms");

int main(void) {
  wasmtime_val_t v;
  v.kind = WASMTIME_I64;
  v.of.i64 = -5;
  CHECK((char *)&v.of.i64 - (char *)&v == 8);
  wasmtime_val_raw_t raw;
  memset(&raw, 0, sizeof raw);
  raw.i32 = 7;
  CHECK(raw.i64 == 7);
  CHECK(wasm_limits_max_default == 0xffffffffu);
  CHECK(MEMORY_PAGE_SIZE == 65536);
  DONE("layout");
  return 0;
}
