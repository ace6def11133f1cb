/* Globals: exported and host-made, get/set, mutability, types. */
#include "check.h"

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);

  /* Host globals of each numeric type, imported by a module that sums them. */
  wasm_globaltype_t *ti = wasm_globaltype_new(wasm_valtype_new_i32(), WASM_VAR);
  wasm_globaltype_t *tl = wasm_globaltype_new(wasm_valtype_new_i64(), WASM_CONST);
  wasm_globaltype_t *tf = wasm_globaltype_new(wasm_valtype_new_f32(), WASM_CONST);
  wasm_globaltype_t *td = wasm_globaltype_new(wasm_valtype_new_f64(), WASM_VAR);
  CHECK(wasm_globaltype_new(wasm_valtype_new_i32(), 7) == NULL);
  wasmtime_val_t vi = {.kind = WASMTIME_I32, .of = {.i32 = 1}};
  wasmtime_val_t vl = {.kind = WASMTIME_I64, .of = {.i64 = 20}};
  wasmtime_val_t vf = {.kind = WASMTIME_F32, .of = {.f32 = 300.0f}};
  wasmtime_val_t vd = {.kind = WASMTIME_F64, .of = {.f64 = 4000.0}};
  wasmtime_global_t gi, gl, gf, gd;
  expect_ok(wasmtime_global_new(ctx, ti, &vi, &gi), "i32 global");
  expect_ok(wasmtime_global_new(ctx, tl, &vl, &gl), "i64 global");
  expect_ok(wasmtime_global_new(ctx, tf, &vf, &gf), "f32 global");
  expect_ok(wasmtime_global_new(ctx, td, &vd, &gd), "f64 global");
  /* A value of the wrong type is an error. */
  wasmtime_global_t bad;
  CHECK(wasmtime_global_new(ctx, ti, &vl, &bad) != NULL ? 1 : 0);

  wasm_globaltype_t *got = wasmtime_global_type(ctx, &gl);
  CHECK(wasm_globaltype_mutability(got) == WASM_CONST);
  CHECK(wasm_valtype_kind(wasm_globaltype_content(got)) == WASM_I64);
  wasm_globaltype_delete(got);

  wasmtime_module_t *module = compile_wat(
      engine,
      "(module"
      "  (import \"\" \"i\" (global $i (mut i32)))"
      "  (import \"\" \"l\" (global $l i64))"
      "  (import \"\" \"f\" (global $f f32))"
      "  (import \"\" \"d\" (global $d (mut f64)))"
      "  (global $own (export \"own\") (mut i64) (i64.const 5))"
      "  (func (export \"sum\") (result f64)"
      "    (global.set $i (i32.add (global.get $i) (i32.const 1)))"
      "    (f64.add (f64.add (f64.convert_i32_s (global.get $i)) (f64.convert_i64_s (global.get $l)))"
      "             (f64.add (f64.promote_f32 (global.get $f)) (global.get $d)))))");
  wasmtime_extern_t imports[4] = {{.kind = WASMTIME_EXTERN_GLOBAL, .of = {.global = gi}},
                                  {.kind = WASMTIME_EXTERN_GLOBAL, .of = {.global = gl}},
                                  {.kind = WASMTIME_EXTERN_GLOBAL, .of = {.global = gf}},
                                  {.kind = WASMTIME_EXTERN_GLOBAL, .of = {.global = gd}}};
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, imports, 4, &inst, &trap), "instantiate");
  wasmtime_func_t sum = get_func(ctx, &inst, "sum");
  wasmtime_val_t r;
  expect_ok(wasmtime_func_call(ctx, &sum, NULL, 0, &r, 1, &trap), "sum");
  CHECK(r.of.f64 == 4322.0);
  printf("sum = %.1f\n", r.of.f64);
  /* Wasm's write is visible to the host; the host's write to wasm. */
  wasmtime_global_get(ctx, &gi, &r);
  CHECK(r.kind == WASMTIME_I32 && r.of.i32 == 2);
  vd.of.f64 = 0.5;
  expect_ok(wasmtime_global_set(ctx, &gd, &vd), "set f64");
  expect_ok(wasmtime_func_call(ctx, &sum, NULL, 0, &r, 1, &trap), "sum again");
  CHECK(r.of.f64 == 323.5);
  /* Immutable globals and wrong types cannot be set. */
  wasmtime_error_t *err = wasmtime_global_set(ctx, &gl, &vl);
  CHECK(err != NULL);
  wasmtime_error_delete(err);
  err = wasmtime_global_set(ctx, &gi, &vd);
  CHECK(err != NULL);
  wasmtime_error_delete(err);

  /* An exported global. */
  wasmtime_extern_t item;
  CHECK(wasmtime_instance_export_get(ctx, &inst, "own", 3, &item));
  CHECK(item.kind == WASMTIME_EXTERN_GLOBAL);
  wasmtime_global_get(ctx, &item.of.global, &r);
  CHECK(r.kind == WASMTIME_I64 && r.of.i64 == 5);
  vl.of.i64 = -9;
  expect_ok(wasmtime_global_set(ctx, &item.of.global, &vl), "set exported");
  wasmtime_global_get(ctx, &item.of.global, &r);
  CHECK(r.of.i64 == -9);

  /* A funcref global. */
  wasm_globaltype_t *tr = wasm_globaltype_new(wasm_valtype_new_funcref(), WASM_VAR);
  wasmtime_val_t fv = {.kind = WASMTIME_FUNCREF, .of = {.funcref = sum}};
  wasmtime_global_t gr;
  expect_ok(wasmtime_global_new(ctx, tr, &fv, &gr), "funcref global");
  wasmtime_global_get(ctx, &gr, &r);
  CHECK(r.kind == WASMTIME_FUNCREF && r.of.funcref.__private == sum.__private);
  wasm_globaltype_delete(tr);

  wasm_globaltype_delete(ti);
  wasm_globaltype_delete(tl);
  wasm_globaltype_delete(tf);
  wasm_globaltype_delete(td);
  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  DONE("global");
  return 0;
}
