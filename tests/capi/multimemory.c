/* Several memories in one module: each read, written and grown from wasm and from the host,
 * bounds checked on its own, and a standalone memory imported as a module's second memory. */
#include "check.h"

static const char *WAT =
    "(module"
    "  (memory $m0 (export \"memory0\") 2 3)"
    "  (memory $m1 (export \"memory1\") 2 4)"
    "  (func (export \"size0\") (result i32) (memory.size $m0))"
    "  (func (export \"load0\") (param i32) (result i32) (i32.load8_s $m0 (local.get 0)))"
    "  (func (export \"store0\") (param i32 i32) (i32.store8 $m0 (local.get 0) (local.get 1)))"
    "  (func (export \"size1\") (result i32) (memory.size $m1))"
    "  (func (export \"load1\") (param i32) (result i32) (i32.load8_s $m1 (local.get 0)))"
    "  (func (export \"store1\") (param i32 i32) (i32.store8 $m1 (local.get 0) (local.get 1)))"
    "  (func (export \"grow1\") (param i32) (result i32) (memory.grow $m1 (local.get 0)))"
    "  (func (export \"copy10\") (param i32 i32 i32)"
    "    (memory.copy $m1 $m0 (local.get 0) (local.get 1) (local.get 2)))"
    "  (data (memory $m0) (i32.const 0x1000) \"\\01\\02\\03\\04\")"
    "  (data (memory $m1) (i32.const 0x1000) \"\\04\\03\\02\\01\"))";

static wasmtime_context_t *ctx;
static wasmtime_instance_t inst;

/* Calls export `name` with up to two i32 arguments (a third, for copies, is 4); 1 if it
 * trapped, else 0 and `*result`. */
static int call(const char *name, int32_t a, int32_t b, size_t nargs, int32_t *result) {
  wasmtime_func_t f = get_func(ctx, &inst, name);
  wasmtime_val_t args[3] = {{.kind = WASMTIME_I32, .of.i32 = a},
                            {.kind = WASMTIME_I32, .of.i32 = b},
                            {.kind = WASMTIME_I32, .of.i32 = 4}};
  wasmtime_val_t res;
  wasm_trap_t *trap = NULL;
  wasm_functype_t *ty = wasmtime_func_type(ctx, &f);
  size_t nresults = wasm_functype_results(ty)->size;
  wasm_functype_delete(ty);
  expect_ok(wasmtime_func_call(ctx, &f, args, nargs, &res, nresults, &trap), name);
  if (trap != NULL) {
    wasmtime_trap_code_t code;
    CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS);
    wasm_trap_delete(trap);
    return 1;
  }
  if (nresults == 1 && result != NULL) {
    *result = res.of.i32;
  }
  return 0;
}

static int32_t call_i32(const char *name, int32_t a, size_t nargs) {
  int32_t r = -12345;
  CHECK(call(name, a, 0, nargs, &r) == 0);
  return r;
}

static wasmtime_memory_t get_memory(const char *name) {
  wasmtime_extern_t item;
  CHECK(wasmtime_instance_export_get(ctx, &inst, name, strlen(name), &item));
  CHECK(item.kind == WASMTIME_EXTERN_MEMORY);
  return item.of.memory;
}

int main(void) {
  wasm_config_t *config = wasm_config_new();
  wasmtime_config_wasm_multi_memory_set(config, true);
  wasm_engine_t *engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  ctx = wasmtime_store_context(store);
  wasmtime_module_t *module = compile_wat(engine, WAT);
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, NULL, 0, &inst, &trap), "instantiate");
  CHECK(trap == NULL);

  wasmtime_memory_t memory0 = get_memory("memory0");
  wasmtime_memory_t memory1 = get_memory("memory1");

  /* Initial contents, each memory its own segment. */
  CHECK(wasmtime_memory_size(ctx, &memory0) == 2 && wasmtime_memory_size(ctx, &memory1) == 2);
  CHECK(wasmtime_memory_data_size(ctx, &memory0) == 0x20000);
  CHECK(wasmtime_memory_data(ctx, &memory0)[0x1000] == 1);
  CHECK(wasmtime_memory_data(ctx, &memory1)[0x1000] == 4);
  CHECK(call_i32("load0", 0x1003, 1) == 4 && call_i32("load1", 0x1003, 1) == 1);
  CHECK(call("load0", 0x20000, 0, 1, NULL) == 1);
  CHECK(call("load1", 0x1ffff, 0, 1, NULL) == 0);
  printf("two memories with their own data\n");

  /* Writes from the host and from wasm land in the right memory. */
  wasmtime_memory_data(ctx, &memory0)[0x1003] = 5;
  CHECK(call("store1", 0x1002, 6, 2, NULL) == 0);
  CHECK(call_i32("load0", 0x1003, 1) == 5 && call_i32("load1", 0x1003, 1) == 1);
  CHECK(wasmtime_memory_data(ctx, &memory1)[0x1002] == 6);
  CHECK(wasmtime_memory_data(ctx, &memory0)[0x1002] == 3);
  CHECK(call("store0", 0x20000, 0, 2, NULL) == 1);
  /* memory.copy from memory0 into memory1. */
  CHECK(call("copy10", 0x3000, 0x1000, 3, NULL) == 0);
  CHECK(memcmp(wasmtime_memory_data(ctx, &memory1) + 0x3000, "\x01\x02\x03\x05", 4) == 0);
  printf("writes and copies go to the memory named\n");

  /* Growth: each memory up to its own maximum. */
  uint64_t prev = 0;
  expect_ok(wasmtime_memory_grow(ctx, &memory0, 1, &prev), "grow memory0");
  CHECK(prev == 2 && call_i32("size0", 0, 0) == 3 && call_i32("size1", 0, 0) == 2);
  CHECK(error_contains(wasmtime_memory_grow(ctx, &memory0, 1, &prev), "grow"));
  CHECK(call_i32("grow1", 2, 1) == 2);
  CHECK(call_i32("grow1", 1, 1) == -1);
  CHECK(wasmtime_memory_size(ctx, &memory1) == 4);
  CHECK(wasmtime_memory_data_size(ctx, &memory1) == 0x40000);
  CHECK(call_i32("load1", 0x3ffff, 1) == 0);
  CHECK(call("load0", 0x2ffff, 0, 1, NULL) == 0 && call("load0", 0x30000, 0, 1, NULL) == 1);
  wasm_memorytype_t *ty = wasmtime_memory_type(ctx, &memory1);
  uint64_t max = 0;
  CHECK(wasmtime_memorytype_minimum(ty) == 2); /* the declared type, as in Wasmtime */
  CHECK(wasmtime_memorytype_maximum(ty, &max) && max == 4);
  wasm_memorytype_delete(ty);
  printf("each memory grows up to its own maximum\n");

  /* A host memory imported as a module's second memory. */
  wasmtime_module_t *importer = compile_wat(
      engine, "(module (import \"host\" \"mem\" (memory $m 1)) (memory $own 1)"
              "  (func (export \"peek\") (param i32) (result i32) (i32.load8_u $m (local.get 0)))"
              "  (func (export \"poke_own\") (param i32 i32) (i32.store8 $own (local.get 0) (local.get 1))))");
  wasm_memorytype_t *mty = wasmtime_memorytype_new(1, true, 2, false, false);
  wasmtime_memory_t host_mem;
  expect_ok(wasmtime_memory_new(ctx, mty, &host_mem), "memory_new");
  wasm_memorytype_delete(mty);
  wasmtime_memory_data(ctx, &host_mem)[7] = 42;
  wasmtime_extern_t import = {.kind = WASMTIME_EXTERN_MEMORY, .of.memory = host_mem};
  expect_ok(wasmtime_instance_new(ctx, importer, &import, 1, &inst, &trap), "importer");
  CHECK(call_i32("peek", 7, 1) == 42);
  CHECK(call("poke_own", 7, 9, 2, NULL) == 0);
  CHECK(wasmtime_memory_data(ctx, &host_mem)[7] == 42);
  printf("a host memory serves as the second memory of another module\n");

  wasmtime_module_delete(importer);
  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  DONE("multimemory");
  return 0;
}
