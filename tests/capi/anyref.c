/* anyref through the C API, as Wasmtime's `examples/anyref.c` uses it: an i31ref made by the
 * host goes through a table, a global and a function, wasm makes one the host reads, and
 * wasmtime_context_gc runs between. */
#include "check.h"

int main(void) {
  wasm_config_t *config = wasm_config_new();
  wasmtime_config_wasm_gc_set(config, true);
  wasm_engine_t *engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_module_t *module = compile_wat(
      engine,
      "(module"
      "  (table $table (export \"table\") 10 anyref)"
      "  (global $global (export \"global\") (mut anyref) (ref.null any))"
      "  (func (export \"take_anyref\") (param anyref) (result i32)"
      "    (i31.get_u (ref.cast (ref i31) (local.get 0))))"
      "  (func (export \"return_anyref\") (result anyref) (ref.i31 (i32.const 42))))");
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, NULL, 0, &inst, &trap), "instantiate");
  CHECK(trap == NULL);

  wasmtime_anyref_t i31;
  wasmtime_anyref_from_i31(ctx, 1234, &i31);
  uint32_t u;
  CHECK(wasmtime_anyref_i31_get_u(ctx, &i31, &u) && u == 1234);

  /* Through a table. */
  wasmtime_extern_t item;
  CHECK(wasmtime_instance_export_get(ctx, &inst, "table", 5, &item));
  CHECK(item.kind == WASMTIME_EXTERN_TABLE);
  wasmtime_val_t v = {.kind = WASMTIME_ANYREF, .of = {.anyref = i31}};
  expect_ok(wasmtime_table_set(ctx, &item.of.table, 3, &v), "table.set");
  wasmtime_val_t got;
  CHECK(wasmtime_table_get(ctx, &item.of.table, 3, &got));
  CHECK(got.kind == WASMTIME_ANYREF);
  CHECK(wasmtime_anyref_i31_get_u(ctx, &got.of.anyref, &u) && u == 1234);
  wasmtime_val_unroot(ctx, &got);
  CHECK(wasmtime_table_get(ctx, &item.of.table, 4, &got));
  CHECK(got.kind == WASMTIME_ANYREF && wasmtime_anyref_is_null(&got.of.anyref));

  /* Through a global. */
  CHECK(wasmtime_instance_export_get(ctx, &inst, "global", 6, &item));
  CHECK(item.kind == WASMTIME_EXTERN_GLOBAL);
  expect_ok(wasmtime_global_set(ctx, &item.of.global, &v), "global.set");
  wasmtime_global_get(ctx, &item.of.global, &got);
  CHECK(got.kind == WASMTIME_ANYREF);
  CHECK(wasmtime_anyref_i31_get_u(ctx, &got.of.anyref, &u) && u == 1234);
  wasmtime_val_unroot(ctx, &got);

  /* Into a function, and out of one. */
  wasmtime_context_gc(ctx);
  wasmtime_func_t f = get_func(ctx, &inst, "take_anyref");
  wasmtime_val_t r;
  expect_ok(wasmtime_func_call(ctx, &f, &v, 1, &r, 1, &trap), "take_anyref");
  CHECK(trap == NULL && r.kind == WASMTIME_I32 && r.of.i32 == 1234);
  f = get_func(ctx, &inst, "return_anyref");
  expect_ok(wasmtime_func_call(ctx, &f, NULL, 0, &r, 1, &trap), "return_anyref");
  CHECK(trap == NULL && r.kind == WASMTIME_ANYREF);
  int32_t s;
  CHECK(wasmtime_anyref_i31_get_s(ctx, &r.of.anyref, &s) && s == 42);
  wasmtime_val_unroot(ctx, &r);
  wasmtime_anyref_unroot(ctx, &i31);
  wasmtime_context_gc(ctx);

  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  DONE("anyref");
  return 0;
}
