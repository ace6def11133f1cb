/* Values: every kind through wasm, externrefs, funcrefs, v128, raw values, anyrefs. */
#include "check.h"

static int finalized;
static void finalize(void *p) { finalized += *(int *)p; }

/* Unchecked host (externref) -> externref: passes its argument through. */
static wasm_trap_t *echo_raw(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *vals, size_t n) {
  (void)env; (void)n;
  wasmtime_context_t *ctx = wasmtime_caller_context(caller);
  wasmtime_externref_t ref;
  wasmtime_externref_from_raw(ctx, vals[0].externref, &ref);
  CHECK(*(int *)wasmtime_externref_data(ctx, &ref) == 5);
  vals[0].externref = wasmtime_externref_to_raw(ctx, &ref);
  return NULL;
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_module_t *module = compile_wat(
      engine,
      "(module"
      "  (import \"\" \"echo\" (func $echo (param externref) (result externref)))"
      "  (table $t (export \"t\") 4 externref)"
      "  (func (export \"id_i32\") (param i32) (result i32) local.get 0)"
      "  (func (export \"id_i64\") (param i64) (result i64) local.get 0)"
      "  (func (export \"id_f32\") (param f32) (result f32) local.get 0)"
      "  (func (export \"id_f64\") (param f64) (result f64) local.get 0)"
      "  (func (export \"id_v128\") (param v128) (result v128) local.get 0)"
      "  (func (export \"id_ext\") (param externref) (result externref) (call $echo (local.get 0)))"
      "  (func (export \"id_func\") (param funcref) (result funcref) local.get 0)"
      "  (func (export \"is_null\") (param externref) (result i32) (ref.is_null (local.get 0)))"
      "  (func (export \"store\") (param i32 externref) (table.set $t (local.get 0) (local.get 1))))");
  wasm_functype_t *echo_ty = wasm_functype_new_1_1(wasm_valtype_new_externref(), wasm_valtype_new_externref());
  wasmtime_func_t echo;
  wasmtime_func_new_unchecked(ctx, echo_ty, echo_raw, NULL, NULL, &echo);
  wasm_functype_delete(echo_ty);
  wasmtime_extern_t import = {.kind = WASMTIME_EXTERN_FUNC, .of = {.func = echo}};
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, &import, 1, &inst, &trap), "instantiate");

  wasmtime_val_t a, r;
  wasmtime_func_t f = get_func(ctx, &inst, "id_i32");
  a.kind = WASMTIME_I32; a.of.i32 = -7;
  expect_ok(wasmtime_func_call(ctx, &f, &a, 1, &r, 1, &trap), "i32");
  CHECK(r.kind == WASMTIME_I32 && r.of.i32 == -7);
  f = get_func(ctx, &inst, "id_i64");
  a.kind = WASMTIME_I64; a.of.i64 = -(1LL << 40);
  expect_ok(wasmtime_func_call(ctx, &f, &a, 1, &r, 1, &trap), "i64");
  CHECK(r.kind == WASMTIME_I64 && r.of.i64 == -(1LL << 40));
  f = get_func(ctx, &inst, "id_f32");
  a.kind = WASMTIME_F32; a.of.f32 = 3.5f;
  expect_ok(wasmtime_func_call(ctx, &f, &a, 1, &r, 1, &trap), "f32");
  CHECK(r.kind == WASMTIME_F32 && r.of.f32 == 3.5f);
  f = get_func(ctx, &inst, "id_f64");
  a.kind = WASMTIME_F64; a.of.f64 = -0.125;
  expect_ok(wasmtime_func_call(ctx, &f, &a, 1, &r, 1, &trap), "f64");
  CHECK(r.kind == WASMTIME_F64 && r.of.f64 == -0.125);

  /* v128: little-endian bytes. */
  f = get_func(ctx, &inst, "id_v128");
  wasmtime_val_t vv;
  vv.kind = WASMTIME_V128;
  for (int i = 0; i < 16; i++) {
    vv.of.v128[i] = (uint8_t)(i * 3);
  }
  expect_ok(wasmtime_func_call(ctx, &f, &vv, 1, &r, 1, &trap), "v128");
  CHECK(r.kind == WASMTIME_V128 && memcmp(r.of.v128, vv.of.v128, 16) == 0);

  /* Externrefs: made by the host, carried by wasm, data back out. */
  static int five = 5, three = 3;
  wasmtime_externref_t ext;
  CHECK(wasmtime_externref_new(ctx, &five, finalize, &ext));
  CHECK(!wasmtime_externref_is_null(&ext));
  CHECK(wasmtime_externref_data(ctx, &ext) == &five);
  f = get_func(ctx, &inst, "id_ext");
  a.kind = WASMTIME_EXTERNREF; a.of.externref = ext;
  expect_ok(wasmtime_func_call(ctx, &f, &a, 1, &r, 1, &trap), "externref");
  CHECK(r.kind == WASMTIME_EXTERNREF && wasmtime_externref_data(ctx, &r.of.externref) == &five);
  wasmtime_val_t copy;
  wasmtime_val_clone(ctx, &r, &copy);
  CHECK(wasmtime_externref_data(ctx, &copy.of.externref) == &five);
  wasmtime_val_unroot(ctx, &copy);
  wasmtime_val_unroot(ctx, &r);
  wasmtime_externref_t ext2;
  wasmtime_externref_clone(ctx, &ext, &ext2);
  CHECK(wasmtime_externref_data(ctx, &ext2) == &five);
  uint32_t raw = wasmtime_externref_to_raw(ctx, &ext);
  CHECK(raw != 0);
  wasmtime_externref_from_raw(ctx, raw, &ext2);
  CHECK(wasmtime_externref_data(ctx, &ext2) == &five);
  wasmtime_externref_unroot(ctx, &ext2);
  /* Null externrefs. */
  wasmtime_externref_set_null(&ext2);
  CHECK(wasmtime_externref_data(ctx, &ext2) == NULL && wasmtime_externref_to_raw(ctx, &ext2) == 0);
  wasmtime_externref_from_raw(ctx, 0, &ext2);
  CHECK(wasmtime_externref_is_null(&ext2));
  f = get_func(ctx, &inst, "is_null");
  a.of.externref = ext2;
  expect_ok(wasmtime_func_call(ctx, &f, &a, 1, &r, 1, &trap), "is_null");
  CHECK(r.of.i32 == 1);
  /* Into a table and back. */
  wasmtime_externref_t ext3;
  CHECK(wasmtime_externref_new(ctx, &three, finalize, &ext3));
  f = get_func(ctx, &inst, "store");
  wasmtime_val_t sargs[2] = {{.kind = WASMTIME_I32, .of = {.i32 = 2}},
                             {.kind = WASMTIME_EXTERNREF, .of = {.externref = ext3}}};
  expect_ok(wasmtime_func_call(ctx, &f, sargs, 2, NULL, 0, &trap), "table.set");
  wasmtime_extern_t t;
  CHECK(wasmtime_instance_export_get(ctx, &inst, "t", 1, &t));
  CHECK(wasmtime_table_get(ctx, &t.of.table, 2, &r));
  CHECK(r.kind == WASMTIME_EXTERNREF && wasmtime_externref_data(ctx, &r.of.externref) == &three);
  CHECK(wasmtime_table_get(ctx, &t.of.table, 0, &r) && wasmtime_externref_is_null(&r.of.externref));

  /* Funcrefs as values. */
  wasmtime_func_t id_i32 = get_func(ctx, &inst, "id_i32");
  f = get_func(ctx, &inst, "id_func");
  a.kind = WASMTIME_FUNCREF; a.of.funcref = id_i32;
  expect_ok(wasmtime_func_call(ctx, &f, &a, 1, &r, 1, &trap), "funcref");
  CHECK(r.kind == WASMTIME_FUNCREF && r.of.funcref.__private == id_i32.__private);
  wasmtime_funcref_set_null(&a.of.funcref);
  expect_ok(wasmtime_func_call(ctx, &f, &a, 1, &r, 1, &trap), "null funcref");
  CHECK(wasmtime_funcref_is_null(&r.of.funcref));
  /* Unchecked calls carry funcrefs as raw pointers. */
  wasmtime_val_raw_t rv;
  rv.funcref = wasmtime_func_to_raw(ctx, &id_i32);
  expect_ok(wasmtime_func_call_unchecked(ctx, &f, &rv, 1, &trap), "unchecked funcref");
  wasmtime_func_t back;
  wasmtime_func_from_raw(ctx, rv.funcref, &back);
  CHECK(back.__private == id_i32.__private);
  /* ... and externrefs as raw values, through wasm and the unchecked host function. */
  f = get_func(ctx, &inst, "id_ext");
  rv.externref = wasmtime_externref_to_raw(ctx, &ext);
  expect_ok(wasmtime_func_call_unchecked(ctx, &f, &rv, 1, &trap), "unchecked externref");
  wasmtime_externref_from_raw(ctx, rv.externref, &ext2);
  CHECK(wasmtime_externref_data(ctx, &ext2) == &five);
  /* A raw value that is no function of this store is an error, not a crash. */
  f = get_func(ctx, &inst, "id_func");
  rv.funcref = (void *)&rv;
  wasmtime_func_from_raw(ctx, rv.funcref, &back);
  CHECK(wasmtime_funcref_is_null(&back));

  /* i31 references: made from the host, read back, raw forms, clones, unrooting. */
  wasmtime_anyref_t any;
  wasmtime_anyref_from_i31(ctx, 0x7ffffffb, &any);
  CHECK(!wasmtime_anyref_is_null(&any));
  uint32_t u;
  int32_t s;
  CHECK(wasmtime_anyref_i31_get_u(ctx, &any, &u) && u == 0x7ffffffb);
  CHECK(wasmtime_anyref_i31_get_s(ctx, &any, &s) && s == -5);
  uint32_t any_raw = wasmtime_anyref_to_raw(ctx, &any);
  CHECK(any_raw != 0);
  wasmtime_anyref_t any2;
  wasmtime_anyref_from_raw(ctx, any_raw, &any2);
  CHECK(wasmtime_anyref_i31_get_s(ctx, &any2, &s) && s == -5);
  wasmtime_anyref_clone(ctx, &any, &any2);
  CHECK(wasmtime_anyref_i31_get_u(ctx, &any2, &u) && u == 0x7ffffffb);
  wasmtime_anyref_unroot(ctx, &any2);
  CHECK(wasmtime_anyref_is_null(&any2));
  CHECK(!wasmtime_anyref_i31_get_u(ctx, &any2, &u));
  wasmtime_anyref_from_raw(ctx, 0, &any2);
  CHECK(wasmtime_anyref_is_null(&any2));
  /* An anyref where an externref is expected is an error, not a crash. */
  a.kind = WASMTIME_ANYREF; a.of.anyref = any;
  f = get_func(ctx, &inst, "is_null");
  CHECK(error_contains(wasmtime_func_call(ctx, &f, &a, 1, &r, 1, &trap), "anyref"));

  /* Externrefs live until their store goes. */
  CHECK(finalized == 0);
  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  CHECK(finalized == 8);
  wasm_engine_delete(engine);
  DONE("val");
  return 0;
}
