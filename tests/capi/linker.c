/* Linkers: host functions, items, instances and modules by name. */
#include "check.h"

static int finalized;
static void finalize(void *p) { finalized += *(int *)p; }

static wasm_trap_t *add(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                        size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)caller;
  CHECK(nargs == 2 && nresults == 1);
  results[0].kind = WASMTIME_I32;
  results[0].of.i32 = args[0].of.i32 + args[1].of.i32 + *(int *)env;
  return NULL;
}

static wasm_trap_t *mul_raw(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *vals,
                            size_t n) {
  (void)env; (void)caller;
  CHECK(n == 2);
  vals[0].i32 = vals[0].i32 * vals[1].i32;
  return NULL;
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_linker_t *linker = wasmtime_linker_new(engine);

  static int bias = 100, token = 1;
  wasm_functype_t *binop = wasm_functype_new_2_1(wasm_valtype_new_i32(), wasm_valtype_new_i32(),
                                                 wasm_valtype_new_i32());
  expect_ok(wasmtime_linker_define_func(linker, "host", 4, "add", 3, binop, add, &bias, NULL),
            "define add");
  expect_ok(wasmtime_linker_define_func_unchecked(linker, "host", 4, "mul", 3, binop, mul_raw,
                                                  &token, finalize),
            "define mul");
  /* Defining a name twice is an error unless shadowing is allowed. */
  CHECK(error_contains(
      wasmtime_linker_define_func(linker, "host", 4, "add", 3, binop, add, &bias, NULL),
      "defined twice"));
  /* Invalid UTF-8 in a name is an error, and the finalizer runs at once. */
  static int seven = 7;
  CHECK(error_contains(wasmtime_linker_define_func(linker, "\xff", 1, "x", 1, binop, add,
                                                   &seven, finalize),
                       "utf-8"));
  CHECK(finalized == 7);

  /* An item of the store. */
  wasm_globaltype_t *gty = wasm_globaltype_new(wasm_valtype_new_i32(), WASM_CONST);
  wasmtime_val_t gv = {.kind = WASMTIME_I32, .of = {.i32 = 5}};
  wasmtime_global_t global;
  expect_ok(wasmtime_global_new(ctx, gty, &gv, &global), "global");
  wasm_globaltype_delete(gty);
  wasmtime_extern_t item = {.kind = WASMTIME_EXTERN_GLOBAL, .of = {.global = global}};
  expect_ok(wasmtime_linker_define(linker, ctx, "host", 4, "five", 4, &item), "define five");

  /* A module whose exports other modules import. */
  wasmtime_module_t *lib = compile_wat(
      engine, "(module (func (export \"twice\") (param i32) (result i32)"
              "  (i32.mul (local.get 0) (i32.const 2))))");
  expect_ok(wasmtime_linker_module(linker, ctx, "lib", 3, lib), "linker module");

  wasmtime_module_t *app = compile_wat(
      engine,
      "(module"
      "  (import \"host\" \"add\" (func $add (param i32 i32) (result i32)))"
      "  (import \"host\" \"mul\" (func $mul (param i32 i32) (result i32)))"
      "  (import \"host\" \"five\" (global $five i32))"
      "  (import \"lib\" \"twice\" (func $twice (param i32) (result i32)))"
      "  (func (export \"run\") (param i32) (result i32)"
      "    (call $twice (call $mul (call $add (local.get 0) (global.get $five)) (i32.const 3)))))");
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_linker_instantiate(linker, ctx, app, &inst, &trap), "instantiate");
  CHECK(trap == NULL);
  wasmtime_func_t run = get_func(ctx, &inst, "run");
  wasmtime_val_t arg = {.kind = WASMTIME_I32, .of = {.i32 = 1}};
  wasmtime_val_t res;
  expect_ok(wasmtime_func_call(ctx, &run, &arg, 1, &res, 1, &trap), "run");
  CHECK(trap == NULL && res.of.i32 == (1 + 5 + 100) * 3 * 2);
  printf("run(1) = %d\n", res.of.i32);

  /* Lookups. */
  wasmtime_extern_t got;
  CHECK(wasmtime_linker_get(linker, ctx, "host", 4, "five", 4, &got));
  CHECK(got.kind == WASMTIME_EXTERN_GLOBAL);
  CHECK(wasmtime_linker_get(linker, ctx, "lib", 3, "twice", 5, &got));
  CHECK(got.kind == WASMTIME_EXTERN_FUNC);
  CHECK(wasmtime_linker_get(linker, ctx, "host", 4, "add", 3, &got));
  CHECK(got.kind == WASMTIME_EXTERN_FUNC);
  CHECK(!wasmtime_linker_get(linker, ctx, "host", 4, "nope", 4, &got));
  CHECK(!wasmtime_linker_get(linker, ctx, "\xfe", 1, "x", 1, &got));

  /* An instance's exports under a new name, then shadowing. */
  expect_ok(wasmtime_linker_define_instance(linker, ctx, "app", 3, &inst), "define instance");
  CHECK(wasmtime_linker_get(linker, ctx, "app", 3, "run", 3, &got));
  CHECK(error_contains(wasmtime_linker_define_instance(linker, ctx, "app", 3, &inst), "defined twice"));
  wasmtime_linker_allow_shadowing(linker, true);
  expect_ok(wasmtime_linker_define_instance(linker, ctx, "app", 3, &inst), "shadowing");

  /* Default functions: "" export, else "_start", else a no-op. */
  /* A command may export functions and the few items toolchains add (here `__data_end`),
   * nothing else, as in Wasmtime. */
  wasmtime_module_t *bad = compile_wat(
      engine, "(module (global (export \"g\") i32 (i32.const 0)) (func (export \"_start\")))");
  CHECK(error_contains(wasmtime_linker_module(linker, ctx, "bad", 3, bad),
                       "command export 'g' is not a function"));
  wasmtime_module_delete(bad);
  wasmtime_module_t *cmd = compile_wat(
      engine, "(module (global $g (export \"__data_end\") (mut i32) (i32.const 0))"
              "  (func (export \"_start\") (global.set $g (i32.const 9))))");
  expect_ok(wasmtime_linker_module(linker, ctx, "cmd", 3, cmd), "cmd module");
  wasmtime_func_t def;
  expect_ok(wasmtime_linker_get_default(linker, ctx, "cmd", 3, &def), "get_default");
  expect_ok(wasmtime_func_call(ctx, &def, NULL, 0, NULL, 0, &trap), "call default");
  /* As in Wasmtime, a command is instantiated afresh for each call of its functions: only
   * those are defined. A reactor is instantiated once and `_initialize` runs. */
  CHECK(!wasmtime_linker_get(linker, ctx, "cmd", 3, "__data_end", 10, &got));
  wasmtime_module_t *reactor = compile_wat(
      engine, "(module (global $g (export \"g\") (mut i32) (i32.const 0))"
              "  (func (export \"_initialize\") (global.set $g (i32.const 9))))");
  expect_ok(wasmtime_linker_module(linker, ctx, "reactor", 7, reactor), "reactor module");
  CHECK(wasmtime_linker_get(linker, ctx, "reactor", 7, "g", 1, &got));
  wasmtime_global_get(ctx, &got.of.global, &gv);
  CHECK(gv.of.i32 == 9);
  wasmtime_module_delete(reactor);
  expect_ok(wasmtime_linker_get_default(linker, ctx, "nothing", 7, &def), "no-op default");
  expect_ok(wasmtime_func_call(ctx, &def, NULL, 0, NULL, 0, &trap), "call no-op default");

  /* Missing imports. */
  wasmtime_module_t *needy = compile_wat(engine, "(module (import \"x\" \"y\" (func)))");
  CHECK(error_contains(wasmtime_linker_instantiate(linker, ctx, needy, &inst, &trap), "unknown import"));
  wasmtime_instance_pre_t *pre = NULL;
  CHECK(error_contains(wasmtime_linker_instantiate_pre(linker, needy, &pre), "unknown import"));

  /* Instance-pre: resolve once, instantiate in several stores. */
  expect_ok(wasmtime_linker_instantiate_pre(linker, lib, &pre), "instantiate_pre");
  wasmtime_module_t *pre_module = wasmtime_instance_pre_module(pre);
  CHECK(pre_module != NULL);
  wasmtime_module_delete(pre_module);
  for (int i = 0; i < 3; i++) {
    wasmtime_store_t *s2 = wasmtime_store_new(engine, NULL, NULL);
    wasmtime_context_t *c2 = wasmtime_store_context(s2);
    wasmtime_instance_t i2;
    expect_ok(wasmtime_instance_pre_instantiate(pre, c2, &i2, &trap), "pre instantiate");
    wasmtime_func_t twice = get_func(c2, &i2, "twice");
    arg.of.i32 = 21 + i;
    expect_ok(wasmtime_func_call(c2, &twice, &arg, 1, &res, 1, &trap), "twice");
    CHECK(res.of.i32 == 2 * (21 + i));
    wasmtime_store_delete(s2);
  }
  wasmtime_instance_pre_delete(pre);

  /* A clone has the same definitions. */
  wasmtime_linker_t *clone = wasmtime_linker_clone(linker);
  CHECK(wasmtime_linker_get(clone, ctx, "host", 4, "five", 4, &got));
  wasmtime_linker_delete(clone);

  wasm_functype_delete(binop);
  wasmtime_module_delete(lib);
  wasmtime_module_delete(app);
  wasmtime_module_delete(cmd);
  wasmtime_module_delete(needy);
  wasmtime_linker_delete(linker);
  wasmtime_store_delete(store);
  /* The unchecked function's finalizer ran once the linker and the store were gone. */
  CHECK(finalized == 8);
  wasm_engine_delete(engine);
  DONE("linker");
  return 0;
}
