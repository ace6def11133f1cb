/* Linear memories: exported and host-made, data, size, growth, limits. */
#include "check.h"

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_module_t *module = compile_wat(
      engine,
      "(module (memory (export \"mem\") 2 3)"
      "  (data (i32.const 0x1000) \"\\01\\02\\03\\04\")"
      "  (func (export \"size\") (result i32) memory.size)"
      "  (func (export \"load\") (param i32) (result i32) (i32.load8_s (local.get 0)))"
      "  (func (export \"store\") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))");
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, NULL, 0, &inst, &trap), "instantiate");
  wasmtime_extern_t item;
  CHECK(wasmtime_instance_export_get(ctx, &inst, "mem", 3, &item));
  CHECK(item.kind == WASMTIME_EXTERN_MEMORY);
  wasmtime_memory_t mem = item.of.memory;

  CHECK(wasmtime_memory_size(ctx, &mem) == 2);
  CHECK(wasmtime_memory_data_size(ctx, &mem) == 2 * 65536);
  uint8_t *data = wasmtime_memory_data(ctx, &mem);
  CHECK(data[0x1000] == 1 && data[0x1003] == 4);
  wasm_memorytype_t *ty = wasmtime_memory_type(ctx, &mem);
  uint64_t max;
  CHECK(wasmtime_memorytype_minimum(ty) == 2 && wasmtime_memorytype_maximum(ty, &max) && max == 3);
  CHECK(wasm_memorytype_limits(ty)->min == 2 && wasm_memorytype_limits(ty)->max == 3);
  wasm_memorytype_delete(ty);

  /* The host writes, wasm reads, and the other way around. */
  data[100] = 77;
  wasmtime_func_t load = get_func(ctx, &inst, "load");
  wasmtime_val_t a = {.kind = WASMTIME_I32, .of = {.i32 = 100}}, r;
  expect_ok(wasmtime_func_call(ctx, &load, &a, 1, &r, 1, &trap), "load");
  CHECK(r.of.i32 == 77);
  wasmtime_func_t store_fn = get_func(ctx, &inst, "store");
  wasmtime_val_t sa[2] = {{.kind = WASMTIME_I32, .of = {.i32 = 200}}, {.kind = WASMTIME_I32, .of = {.i32 = -2}}};
  expect_ok(wasmtime_func_call(ctx, &store_fn, sa, 2, NULL, 0, &trap), "store");
  CHECK(data[200] == 0xfe);

  /* Growth, up to the maximum. */
  uint64_t prev = 0;
  expect_ok(wasmtime_memory_grow(ctx, &mem, 1, &prev), "grow");
  CHECK(prev == 2 && wasmtime_memory_size(ctx, &mem) == 3);
  data = wasmtime_memory_data(ctx, &mem);
  data[3 * 65536 - 1] = 9;
  wasmtime_func_t size = get_func(ctx, &inst, "size");
  expect_ok(wasmtime_func_call(ctx, &size, NULL, 0, &r, 1, &trap), "memory.size");
  CHECK(r.of.i32 == 3);
  wasmtime_error_t *err = wasmtime_memory_grow(ctx, &mem, 1, &prev);
  CHECK(err != NULL);
  wasmtime_error_delete(err);
  /* Out of bounds from wasm traps. */
  a.of.i32 = 3 * 65536;
  expect_ok(wasmtime_func_call(ctx, &load, &a, 1, &r, 1, &trap), "oob load");
  CHECK(trap != NULL);
  wasmtime_trap_code_t code;
  CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS);
  wasm_trap_delete(trap);
  trap = NULL;

  /* A host-made memory, usable as an import. */
  wasm_limits_t limits = {1, wasm_limits_max_default};
  wasm_memorytype_t *mty = wasm_memorytype_new(&limits);
  wasmtime_memory_t hmem;
  expect_ok(wasmtime_memory_new(ctx, mty, &hmem), "memory_new");
  wasm_memorytype_delete(mty);
  CHECK(wasmtime_memory_size(ctx, &hmem) == 1);
  wasmtime_memory_data(ctx, &hmem)[5] = 55;
  wasmtime_module_t *user = compile_wat(
      engine, "(module (import \"\" \"m\" (memory 1)) (func (export \"get\") (result i32)"
              "  (i32.load8_u (i32.const 5))))");
  wasmtime_extern_t imp = {.kind = WASMTIME_EXTERN_MEMORY, .of = {.memory = hmem}};
  wasmtime_instance_t uinst;
  expect_ok(wasmtime_instance_new(ctx, user, &imp, 1, &uinst, &trap), "instantiate user");
  wasmtime_func_t get = get_func(ctx, &uinst, "get");
  expect_ok(wasmtime_func_call(ctx, &get, NULL, 0, &r, 1, &trap), "get");
  CHECK(r.of.i32 == 55);
  expect_ok(wasmtime_memory_grow(ctx, &hmem, 10, &prev), "grow host memory");
  CHECK(prev == 1 && wasmtime_memory_data_size(ctx, &hmem) == 11 * 65536);
  /* Its type is the one it was made with (Wasmtime's): minimum 1, not the 11 pages it has,
     through both APIs; the same for the grown exported memory (declared 2..3). */
  wasm_memorytype_t *grown = wasmtime_memory_type(ctx, &hmem);
  CHECK(wasmtime_memorytype_minimum(grown) == 1);
  wasm_memorytype_delete(grown);
  grown = wasmtime_memory_type(ctx, &mem);
  CHECK(wasmtime_memorytype_minimum(grown) == 2 && wasm_memorytype_limits(grown)->max == 3);
  wasm_memorytype_delete(grown);

  /* A 64-bit memory type needs memory64 in the engine's config. */
  wasm_memorytype_t *m64 = wasmtime_memorytype_new(1, false, 0, true, false);
  CHECK(m64 != NULL && wasmtime_memorytype_is64(m64));
  wasm_memorytype_delete(m64);

  wasmtime_module_delete(module);
  wasmtime_module_delete(user);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  DONE("memory");
  return 0;
}
