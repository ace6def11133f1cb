/* Functions: host callbacks (checked and unchecked), calls, callers, raw values. */
#include "check.h"

static int finalized;
static void finalize(void *p) { finalized += *(int *)p; }

/* (i32, i64, f32, f64) -> (f64, i32) */
static wasm_trap_t *mix(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                        size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env; (void)caller;
  if (nargs != 4 || nresults != 2 || args[0].kind != WASMTIME_I32 || args[1].kind != WASMTIME_I64 ||
      args[2].kind != WASMTIME_F32 || args[3].kind != WASMTIME_F64) {
    return wasmtime_trap_new("bad arguments", 13);
  }
  results[0].kind = WASMTIME_F64;
  results[0].of.f64 = args[0].of.i32 + (double)args[1].of.i64 + args[2].of.f32 + args[3].of.f64;
  results[1].kind = WASMTIME_I32;
  results[1].of.i32 = (int32_t)nargs;
  return NULL;
}

static wasm_trap_t *fail(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                         size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)results; (void)nresults;
  return wasmtime_trap_new("host says no", 12);
}

/* Reads the caller's memory and calls back into the caller's export "inc". */
static wasm_trap_t *peek(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                         size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)nargs; (void)nresults;
  CHECK(*(int *)env == 99);
  wasmtime_context_t *ctx = wasmtime_caller_context(caller);
  CHECK(*(int *)wasmtime_context_get_data(ctx) == 1234);
  wasmtime_extern_t mem, inc;
  if (!wasmtime_caller_export_get(caller, "mem", 3, &mem) || mem.kind != WASMTIME_EXTERN_MEMORY) {
    return wasmtime_trap_new("no memory", 9);
  }
  CHECK(!wasmtime_caller_export_get(caller, "nope", 4, &inc));
  CHECK(wasmtime_caller_export_get(caller, "inc", 3, &inc));
  const uint8_t *data = wasmtime_memory_data(ctx, &mem.of.memory);
  wasmtime_val_t arg = {.kind = WASMTIME_I32, .of = {.i32 = data[args[0].of.i32]}};
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *err = wasmtime_func_call(ctx, &inc.of.func, &arg, 1, &results[0], 1, &trap);
  if (err != NULL || trap != NULL) {
    return wasmtime_trap_new("reentrant call failed", 21);
  }
  return NULL;
}

/* Unchecked (i32, i32) -> i32: difference. */
static wasm_trap_t *sub_raw(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *vals, size_t n) {
  (void)env; (void)caller;
  if (n != 2) {
    return wasmtime_trap_new("bad length", 10);
  }
  vals[0].i32 = vals[0].i32 - vals[1].i32;
  return NULL;
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  int data = 1234;
  wasmtime_store_t *store = wasmtime_store_new(engine, &data, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);

  /* A host function called directly. */
  wasm_valtype_vec_t params, results;
  wasm_valtype_t *ps[4] = {wasm_valtype_new_i32(), wasm_valtype_new_i64(), wasm_valtype_new_f32(),
                           wasm_valtype_new_f64()};
  wasm_valtype_t *rs[2] = {wasm_valtype_new_f64(), wasm_valtype_new_i32()};
  wasm_valtype_vec_new(&params, 4, ps);
  wasm_valtype_vec_new(&results, 2, rs);
  wasm_functype_t *mix_ty = wasm_functype_new(&params, &results);
  static int one = 1;
  wasmtime_func_t mix_fn;
  wasmtime_func_new(ctx, mix_ty, mix, &one, finalize, &mix_fn);
  wasm_functype_t *got_ty = wasmtime_func_type(ctx, &mix_fn);
  CHECK(wasm_functype_params(got_ty)->size == 4 && wasm_functype_results(got_ty)->size == 2);
  CHECK(wasm_valtype_kind(wasm_functype_params(got_ty)->data[2]) == WASM_F32);
  wasm_functype_delete(got_ty);
  wasmtime_val_t args[4] = {{.kind = WASMTIME_I32, .of = {.i32 = 1}},
                            {.kind = WASMTIME_I64, .of = {.i64 = 2}},
                            {.kind = WASMTIME_F32, .of = {.f32 = 0.5f}},
                            {.kind = WASMTIME_F64, .of = {.f64 = 0.25}}};
  wasmtime_val_t out[2];
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_func_call(ctx, &mix_fn, args, 4, out, 2, &trap), "call mix");
  CHECK(trap == NULL && out[0].kind == WASMTIME_F64 && out[0].of.f64 == 3.75);
  CHECK(out[1].kind == WASMTIME_I32 && out[1].of.i32 == 4);
  printf("mix = %.2f\n", out[0].of.f64);

  /* Argument mistakes are errors, not traps. */
  CHECK(error_contains(wasmtime_func_call(ctx, &mix_fn, args, 3, out, 2, &trap), "expected 4 arguments"));
  CHECK(error_contains(wasmtime_func_call(ctx, &mix_fn, args, 4, out, 1, &trap), "expected 2 results"));
  args[0].kind = WASMTIME_I64;
  CHECK(error_contains(wasmtime_func_call(ctx, &mix_fn, args, 4, out, 2, &trap), "type mismatch"));
  args[0].kind = WASMTIME_I32;
  args[1].kind = 42;
  CHECK(error_contains(wasmtime_func_call(ctx, &mix_fn, args, 4, out, 2, &trap), "unknown"));
  args[1].kind = WASMTIME_I64;
  CHECK(trap == NULL);

  /* Wasm calling host functions, and a host error coming back as an error. */
  wasm_functype_t *peek_ty = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_functype_t *none = wasm_functype_new_0_0();
  static int ninety_nine = 99;
  wasmtime_func_t peek_fn, fail_fn;
  wasmtime_func_new(ctx, peek_ty, peek, &ninety_nine, NULL, &peek_fn);
  wasmtime_func_new(ctx, none, fail, NULL, NULL, &fail_fn);
  wasmtime_module_t *module = compile_wat(
      engine,
      "(module"
      "  (import \"\" \"peek\" (func $peek (param i32) (result i32)))"
      "  (import \"\" \"fail\" (func $fail))"
      "  (memory (export \"mem\") 1)"
      "  (data (i32.const 16) \"\\29\")"
      "  (func (export \"inc\") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))"
      "  (func (export \"run\") (result i32) (call $peek (i32.const 16)))"
      "  (func (export \"boom\") (call $fail))"
      "  (func (export \"sub\") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1))))");
  wasmtime_extern_t imports[2] = {{.kind = WASMTIME_EXTERN_FUNC, .of = {.func = peek_fn}},
                                  {.kind = WASMTIME_EXTERN_FUNC, .of = {.func = fail_fn}}};
  wasmtime_instance_t inst;
  expect_ok(wasmtime_instance_new(ctx, module, imports, 2, &inst, &trap), "instantiate");
  wasmtime_func_t run = get_func(ctx, &inst, "run");
  wasmtime_val_t r;
  expect_ok(wasmtime_func_call(ctx, &run, NULL, 0, &r, 1, &trap), "run");
  CHECK(trap == NULL && r.of.i32 == 0x2a);
  printf("run = %d\n", r.of.i32);
  wasmtime_func_t boom = get_func(ctx, &inst, "boom");
  wasmtime_error_t *err = wasmtime_func_call(ctx, &boom, NULL, 0, NULL, 0, &trap);
  CHECK(trap == NULL);
  CHECK(error_contains(err, "host says no"));
  /* Calling the failing host function directly. */
  CHECK(error_contains(wasmtime_func_call(ctx, &fail_fn, NULL, 0, NULL, 0, &trap), "host says no"));

  /* Unchecked calls into wasm. */
  wasmtime_func_t sub = get_func(ctx, &inst, "sub");
  wasmtime_val_raw_t raw[2];
  raw[0].i32 = 50;
  raw[1].i32 = 8;
  expect_ok(wasmtime_func_call_unchecked(ctx, &sub, raw, 2, &trap), "call_unchecked");
  CHECK(trap == NULL && raw[0].i32 == 42);
  CHECK(error_contains(wasmtime_func_call_unchecked(ctx, &sub, raw, 1, &trap), "smaller"));

  /* Unchecked host functions, called from C both ways. */
  wasm_functype_t *binop = wasm_functype_new_2_1(wasm_valtype_new_i32(), wasm_valtype_new_i32(),
                                                 wasm_valtype_new_i32());
  static int ten = 10;
  wasmtime_func_t sub_host;
  wasmtime_func_new_unchecked(ctx, binop, sub_raw, &ten, finalize, &sub_host);
  raw[0].i32 = 7;
  raw[1].i32 = 10;
  expect_ok(wasmtime_func_call_unchecked(ctx, &sub_host, raw, 2, &trap), "unchecked host");
  CHECK(raw[0].i32 == -3);
  wasmtime_val_t two[2] = {{.kind = WASMTIME_I32, .of = {.i32 = 100}},
                           {.kind = WASMTIME_I32, .of = {.i32 = 1}}};
  expect_ok(wasmtime_func_call(ctx, &sub_host, two, 2, &r, 1, &trap), "checked call of unchecked host");
  CHECK(r.of.i32 == 99);

  /* Raw funcrefs round-trip. */
  void *raw_fn = wasmtime_func_to_raw(ctx, &sub);
  CHECK(raw_fn != NULL);
  wasmtime_func_t back;
  wasmtime_func_from_raw(ctx, raw_fn, &back);
  CHECK(back.store_id == sub.store_id && back.__private == sub.__private);
  wasmtime_func_from_raw(ctx, NULL, &back);
  CHECK(wasmtime_funcref_is_null(&back));

  wasm_functype_delete(mix_ty);
  wasm_functype_delete(peek_ty);
  wasm_functype_delete(none);
  wasm_functype_delete(binop);
  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  CHECK(finalized == 11);
  wasm_engine_delete(engine);
  DONE("func");
  return 0;
}
