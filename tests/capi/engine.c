/* Engines: creation, clones, epochs. */
#include "check.h"

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  CHECK(engine != NULL);
  CHECK(!wasmtime_engine_is_pulley(engine));

  /* A clone is the same engine: a module compiled with one instantiates in a store of the
   * other, and epochs advanced through either are seen by both. */
  wasm_engine_t *clone = wasmtime_engine_clone(engine);
  CHECK(clone != NULL);
  wasmtime_module_t *module = compile_wat(engine, "(module (func (export \"f\") (result i32) i32.const 7))");
  wasmtime_store_t *store = wasmtime_store_new(clone, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, NULL, 0, &inst, &trap), "instantiate");
  wasmtime_func_t f = get_func(ctx, &inst, "f");
  wasmtime_val_t r;
  expect_ok(wasmtime_func_call(ctx, &f, NULL, 0, &r, 1, &trap), "call");
  CHECK(trap == NULL && r.kind == WASMTIME_I32 && r.of.i32 == 7);
  for (int i = 0; i < 1000; i++) {
    wasmtime_engine_increment_epoch(engine);
    wasmtime_engine_increment_epoch(clone);
  }
  wasmtime_store_delete(store);
  wasmtime_module_delete(module);
  wasm_engine_delete(engine);
  /* The clone keeps the engine alive. */
  module = compile_wat(clone, "(module)");
  CHECK(module != NULL);
  wasmtime_module_delete(module);
  wasm_engine_delete(clone);

  /* An engine from an explicit default configuration. */
  engine = wasm_engine_new_with_config(wasm_config_new());
  CHECK(engine != NULL);
  wasm_engine_delete(engine);
  DONE("engine");
  return 0;
}
