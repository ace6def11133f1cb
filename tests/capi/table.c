/* Tables: exported and host-made, get/set/grow, funcref and externref elements. */
#include "check.h"

static wasm_trap_t *seven(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                          size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)nresults;
  results[0].kind = WASMTIME_I32;
  results[0].of.i32 = 7;
  return NULL;
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_module_t *module = compile_wat(
      engine,
      "(module (type $t (func (result i32)))"
      "  (table (export \"tab\") 2 4 funcref)"
      "  (func $one (result i32) i32.const 1)"
      "  (elem (i32.const 0) $one)"
      "  (func (export \"call\") (param i32) (result i32) (call_indirect (type $t) (local.get 0))))");
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, NULL, 0, &inst, &trap), "instantiate");
  wasmtime_extern_t item;
  CHECK(wasmtime_instance_export_get(ctx, &inst, "tab", 3, &item));
  wasmtime_table_t tab = item.of.table;
  CHECK(wasmtime_table_size(ctx, &tab) == 2);
  wasm_tabletype_t *ty = wasmtime_table_type(ctx, &tab);
  CHECK(wasm_valtype_kind(wasm_tabletype_element(ty)) == WASM_FUNCREF);
  CHECK(wasm_tabletype_limits(ty)->min == 2 && wasm_tabletype_limits(ty)->max == 4);
  wasm_tabletype_delete(ty);

  wasmtime_val_t v;
  CHECK(wasmtime_table_get(ctx, &tab, 0, &v) && v.kind == WASMTIME_FUNCREF);
  CHECK(!wasmtime_funcref_is_null(&v.of.funcref));
  CHECK(wasmtime_table_get(ctx, &tab, 1, &v) && wasmtime_funcref_is_null(&v.of.funcref));
  CHECK(!wasmtime_table_get(ctx, &tab, 2, &v));

  /* A host function in the table, called indirectly. */
  wasm_functype_t *fty = wasm_functype_new_0_1(wasm_valtype_new_i32());
  wasmtime_func_t host;
  wasmtime_func_new(ctx, fty, seven, NULL, NULL, &host);
  wasm_functype_delete(fty);
  v.kind = WASMTIME_FUNCREF;
  v.of.funcref = host;
  expect_ok(wasmtime_table_set(ctx, &tab, 1, &v), "table_set");
  wasmtime_func_t call = get_func(ctx, &inst, "call");
  wasmtime_val_t a = {.kind = WASMTIME_I32, .of = {.i32 = 1}}, r;
  expect_ok(wasmtime_func_call(ctx, &call, &a, 1, &r, 1, &trap), "call_indirect host");
  CHECK(trap == NULL && r.of.i32 == 7);
  a.of.i32 = 0;
  expect_ok(wasmtime_func_call(ctx, &call, &a, 1, &r, 1, &trap), "call_indirect wasm");
  CHECK(r.of.i32 == 1);
  CHECK(error_contains(wasmtime_table_set(ctx, &tab, 9, &v), "out of bounds"));
  wasmtime_val_t wrong = {.kind = WASMTIME_I32, .of = {.i32 = 0}};
  CHECK(wasmtime_table_set(ctx, &tab, 0, &wrong) != NULL ? 1 : 0);

  /* Growth within the maximum. */
  uint64_t prev = 0;
  expect_ok(wasmtime_table_grow(ctx, &tab, 2, &v, &prev), "grow");
  CHECK(prev == 2 && wasmtime_table_size(ctx, &tab) == 4);
  /* The type stays the declared one (Wasmtime's): minimum 2 after growing to 4. */
  ty = wasmtime_table_type(ctx, &tab);
  CHECK(wasm_tabletype_limits(ty)->min == 2 && wasm_tabletype_limits(ty)->max == 4);
  wasm_tabletype_delete(ty);
  CHECK(wasmtime_table_get(ctx, &tab, 3, &v) && v.of.funcref.__private == host.__private);
  wasmtime_error_t *err = wasmtime_table_grow(ctx, &tab, 1, &v, &prev);
  CHECK(err != NULL);
  wasmtime_error_delete(err);

  /* A host-made externref table. */
  wasm_limits_t limits = {3, 10};
  wasm_tabletype_t *xty = wasm_tabletype_new(wasm_valtype_new_externref(), &limits);
  static int payload = 1;
  wasmtime_val_t init;
  init.kind = WASMTIME_EXTERNREF;
  CHECK(wasmtime_externref_new(ctx, &payload, NULL, &init.of.externref));
  wasmtime_table_t xtab;
  expect_ok(wasmtime_table_new(ctx, xty, &init, &xtab), "table_new");
  wasm_tabletype_delete(xty);
  CHECK(wasmtime_table_size(ctx, &xtab) == 3);
  CHECK(wasmtime_table_get(ctx, &xtab, 2, &v) && v.kind == WASMTIME_EXTERNREF);
  CHECK(wasmtime_externref_data(ctx, &v.of.externref) == &payload);
  wasmtime_externref_set_null(&init.of.externref);
  expect_ok(wasmtime_table_grow(ctx, &xtab, 1, &init, &prev), "grow null");
  CHECK(wasmtime_table_get(ctx, &xtab, 3, &v) && wasmtime_externref_is_null(&v.of.externref));
  /* A function reference does not fit an externref table. */
  wasmtime_val_t fv = {.kind = WASMTIME_FUNCREF, .of = {.funcref = host}};
  err = wasmtime_table_set(ctx, &xtab, 0, &fv);
  CHECK(err != NULL);
  wasmtime_error_delete(err);
  /* Limits on host tables. */
  wasmtime_store_limiter(store, -1, 5, -1, 1, -1);
  limits.min = 1;
  xty = wasm_tabletype_new(wasm_valtype_new_funcref(), &limits);
  CHECK(error_contains(wasmtime_table_grow(ctx, &xtab, 2, &init, &prev), "resource limit exceeded"));
  wasmtime_val_t nullf = {.kind = WASMTIME_FUNCREF, .of = {.funcref = {0, 0}}};
  CHECK(error_contains(wasmtime_table_new(ctx, xty, &nullf, &xtab), "resource limit exceeded"));
  wasm_tabletype_delete(xty);
  /* Element types must be references. */
  CHECK(wasm_tabletype_new(wasm_valtype_new_i32(), &limits) == NULL);

  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  DONE("table");
  return 0;
}
