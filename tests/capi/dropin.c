/* What a client written for Wasmtime 29's C API relies on beyond the signatures (issue 17):
 * empty vectors and names handed out with a non-null `data`; the instance's exports visible
 * to a host function while the start function runs; finalizers of externref data and of host
 * function environments run exactly once, at the latest when the store is deleted; the texts
 * of traps with a backtrace and of a WASI exit. */
#include "check.h"

static int start_saw_export;
static wasm_trap_t *peek_export(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                                size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env, (void)args, (void)nargs, (void)results, (void)nresults;
  wasmtime_extern_t item;
  if (wasmtime_caller_export_get(caller, "g", 1, &item) && item.kind == WASMTIME_EXTERN_GLOBAL) {
    start_saw_export++;
  }
  return NULL;
}

static int externref_finalized, env_finalized;
static void externref_finalizer(void *data) { externref_finalized += *(int *)data; }
static void env_finalizer(void *data) { env_finalized += *(int *)data; }

static wasm_trap_t *nothing(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                            size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env, (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
  return NULL;
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_error_t *err = NULL;
  wasm_trap_t *trap = NULL;

  /* Empty names and vectors. */
  wasmtime_module_t *empty_names = compile_wat(
      engine, "(module (func (export \"\")) (memory (export \"m\") 0))");
  wasm_exporttype_vec_t exports;
  wasmtime_module_exports(empty_names, &exports);
  CHECK(exports.size == 2);
  const wasm_name_t *name = wasm_exporttype_name(exports.data[0]);
  CHECK(name->size == 0 && name->data != NULL);
  const wasm_externtype_t *fty = wasm_exporttype_type(exports.data[0]);
  const wasm_functype_t *ft = wasm_externtype_as_functype_const(fty);
  CHECK(wasm_functype_params(ft)->size == 0 && wasm_functype_params(ft)->data != NULL);
  CHECK(wasm_functype_results(ft)->size == 0 && wasm_functype_results(ft)->data != NULL);
  wasm_exporttype_vec_delete(&exports);
  wasm_importtype_vec_t imports;
  wasmtime_module_imports(empty_names, &imports);
  CHECK(imports.size == 0 && imports.data != NULL);
  wasm_importtype_vec_delete(&imports);
  wasm_byte_vec_t bytes;
  wasm_byte_vec_new(&bytes, 0, NULL);
  CHECK(bytes.size == 0 && bytes.data != NULL);
  wasm_byte_vec_t copy;
  wasm_byte_vec_copy(&copy, &bytes);
  CHECK(copy.size == 0 && copy.data != NULL);
  wasm_byte_vec_delete(&copy);
  wasm_byte_vec_delete(&bytes);
  wasm_byte_vec_new_uninitialized(&bytes, 0);
  CHECK(bytes.data != NULL);
  wasm_byte_vec_delete(&bytes);
  /* Only `new_empty` gives NULL, as in Wasmtime. */
  wasm_byte_vec_new_empty(&bytes);
  CHECK(bytes.size == 0 && bytes.data == NULL);
  wasm_byte_vec_delete(&bytes);

  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_instance_t inst;
  expect_ok(wasmtime_instance_new(ctx, empty_names, NULL, 0, &inst, &trap), "instantiate");
  char *export_name = NULL;
  size_t export_len = 99;
  wasmtime_extern_t item;
  CHECK(wasmtime_instance_export_nth(ctx, &inst, 0, &export_name, &export_len, &item));
  CHECK(export_len == 0 && export_name != NULL);

  /* The start function's host call sees the instance's exports. */
  wasmtime_module_t *with_start = compile_wat(
      engine, "(module (import \"host\" \"peek\" (func $peek)) (global (export \"g\") i32 "
              "(i32.const 7)) (func $start call $peek) (start $start))");
  wasmtime_linker_t *linker = wasmtime_linker_new(engine);
  wasm_functype_t *unit = wasm_functype_new_0_0();
  static int two = 2;
  expect_ok(wasmtime_linker_define_func(linker, "host", 4, "peek", 4, unit, peek_export, &two,
                                        env_finalizer),
            "define peek");
  expect_ok(wasmtime_linker_instantiate(linker, ctx, with_start, &inst, &trap), "start");
  CHECK(trap == NULL && start_saw_export == 1);

  /* Finalizers: an externref's data and a host function's environment, once each. */
  static int one = 1, hundred = 100;
  wasmtime_externref_t ref;
  CHECK(wasmtime_externref_new(ctx, &one, externref_finalizer, &ref));
  wasmtime_externref_t ref2;
  wasmtime_externref_clone(ctx, &ref, &ref2);
  wasmtime_val_t val = {.kind = WASMTIME_EXTERNREF, .of = {.externref = ref}};
  wasm_globaltype_t *gty = wasm_globaltype_new(wasm_valtype_new(WASM_EXTERNREF), WASM_VAR);
  wasmtime_global_t global;
  expect_ok(wasmtime_global_new(ctx, gty, &val, &global), "global with externref");
  wasm_globaltype_delete(gty);
  wasmtime_externref_unroot(ctx, &ref);
  wasmtime_externref_unroot(ctx, &ref2);
  wasmtime_func_t host;
  wasmtime_func_new(ctx, unit, nothing, &hundred, env_finalizer, &host);
  CHECK(externref_finalized == 0 && env_finalized == 0);

  /* A trap with a backtrace, word for word as Wasmtime 29 prints it. */
  wasmtime_module_t *divide = compile_wat(
      engine, "(module (func $div (export \"div\") (param i32) (result i32) "
              "i32.const 1 local.get 0 i32.div_u))");
  expect_ok(wasmtime_instance_new(ctx, divide, NULL, 0, &inst, &trap), "instantiate div");
  wasmtime_func_t div = get_func(ctx, &inst, "div");
  wasmtime_val_t zero = {.kind = WASMTIME_I32, .of = {.i32 = 0}}, result;
  expect_ok(wasmtime_func_call(ctx, &div, &zero, 1, &result, 1, &trap), "div");
  CHECK(trap != NULL);
  wasm_message_t message;
  wasm_trap_message(trap, &message);
  const char *expected = "error while executing at wasm backtrace:\n"
                         "    0:     0x26 - <unknown>!div\n"
                         "\n"
                         "Caused by:\n"
                         "    wasm trap: integer divide by zero";
  if (strcmp(message.data, expected) != 0) {
    fprintf(stderr, "trap message:\n%s\n", message.data);
  }
  CHECK(strcmp(message.data, expected) == 0);
  wasm_byte_vec_delete(&message);
  wasm_trap_delete(trap);
  trap = NULL;

  wasmtime_store_delete(store);
  CHECK(externref_finalized == 1);
  /* `host`'s environment goes with the store; `peek`'s stays with the linker. */
  CHECK(env_finalized == 100);
  wasmtime_linker_delete(linker);
  CHECK(env_finalized == 102);

  wasm_functype_delete(unit);
  wasmtime_module_delete(empty_names);
  wasmtime_module_delete(with_start);
  wasmtime_module_delete(divide);
  wasm_engine_delete(engine);
  (void)err;
  DONE("dropin");
  return 0;
}
