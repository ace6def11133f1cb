/* Traps: every code, messages, frames and names. */
#include "check.h"

static wasm_trap_t *host_fail(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                              size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)results; (void)nresults;
  return wasmtime_trap_new("custom failure", 14);
}

static int name_is(const wasm_name_t *n, const char *s) {
  return n != NULL && n->size == strlen(s) && memcmp(n->data, s, n->size) == 0;
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_module_t *module = compile_wat(
      engine,
      "(module $traps"
      "  (import \"\" \"fail\" (func $fail))"
      "  (type $v (func))"
      "  (type $i (func (result i32)))"
      "  (table 2 funcref)"
      "  (elem (i32.const 0) $unreachable)"
      "  (memory 1)"
      "  (func $unreachable (export \"unreachable\") unreachable)"
      "  (func $outer (export \"nested\") (call $unreachable))"
      "  (func (export \"div0\") (drop (i32.div_s (i32.const 1) (i32.const 0))))"
      "  (func (export \"overflow\") (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))))"
      "  (func (export \"conversion\") (drop (i32.trunc_f32_s (f32.const nan))))"
      "  (func (export \"oob\") (drop (i32.load (i32.const 65536))))"
      "  (func (export \"table_oob\") (call_indirect (type $v) (i32.const 5)))"
      "  (func (export \"null\") (call_indirect (type $v) (i32.const 1)))"
      "  (func (export \"sig\") (drop (call_indirect (type $i) (i32.const 0))))"
      "  (func $rec (export \"stack\") (call $rec))"
      "  (func (export \"host\") (call $fail)))");
  wasm_functype_t *none = wasm_functype_new_0_0();
  wasmtime_func_t fail;
  wasmtime_func_new(ctx, none, host_fail, NULL, NULL, &fail);
  wasm_functype_delete(none);
  wasmtime_extern_t imp = {.kind = WASMTIME_EXTERN_FUNC, .of = {.func = fail}};
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, &imp, 1, &inst, &trap), "instantiate");

  struct {
    const char *name;
    wasmtime_trap_code_t code;
    const char *message;
  } cases[] = {
      {"unreachable", WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED, "unreachable"},
      {"div0", WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO, "integer divide by zero"},
      {"overflow", WASMTIME_TRAP_CODE_INTEGER_OVERFLOW, "integer overflow"},
      {"conversion", WASMTIME_TRAP_CODE_BAD_CONVERSION_TO_INTEGER, "invalid conversion"},
      {"oob", WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access"},
      {"table_oob", WASMTIME_TRAP_CODE_TABLE_OUT_OF_BOUNDS, "out of bounds table access"},
      {"null", WASMTIME_TRAP_CODE_INDIRECT_CALL_TO_NULL, "uninitialized element"},
      {"sig", WASMTIME_TRAP_CODE_BAD_SIGNATURE, "indirect call type mismatch"},
      {"stack", WASMTIME_TRAP_CODE_STACK_OVERFLOW, "call stack exhausted"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wasmtime_func_t f = get_func(ctx, &inst, cases[i].name);
    trap = NULL;
    expect_ok(wasmtime_func_call(ctx, &f, NULL, 0, NULL, 0, &trap), cases[i].name);
    CHECK(trap != NULL);
    wasmtime_trap_code_t code = 0xff;
    CHECK(wasmtime_trap_code(trap, &code));
    if (code != cases[i].code) {
      fprintf(stderr, "%s: code %d, expected %d\n", cases[i].name, code, cases[i].code);
      exit(1);
    }
    CHECK(trap_contains(trap, cases[i].message));
    /* A copy keeps the code. */
    wasm_trap_t *copy = wasm_trap_copy(trap);
    CHECK(wasmtime_trap_code(copy, &code) && code == cases[i].code);
    wasm_trap_delete(copy);
    wasm_trap_delete(trap);
    printf("%s: trap code %d\n", cases[i].name, cases[i].code);
  }

  /* Frames of a nested trap: innermost first, with names from the name section. */
  wasmtime_func_t nested = get_func(ctx, &inst, "nested");
  trap = NULL;
  expect_ok(wasmtime_func_call(ctx, &nested, NULL, 0, NULL, 0, &trap), "nested");
  CHECK(trap != NULL);
  wasm_frame_vec_t frames;
  wasm_trap_trace(trap, &frames);
  CHECK(frames.size == 2);
  CHECK(wasm_frame_func_index(frames.data[0]) == 1);
  CHECK(wasm_frame_func_index(frames.data[1]) == 2);
  CHECK(name_is(wasmtime_frame_func_name(frames.data[0]), "unreachable"));
  CHECK(name_is(wasmtime_frame_func_name(frames.data[1]), "outer"));
  CHECK(name_is(wasmtime_frame_module_name(frames.data[0]), "traps"));
  CHECK(wasm_frame_module_offset(frames.data[0]) != SIZE_MAX);
  CHECK(wasm_frame_module_offset(frames.data[0]) < wasm_frame_module_offset(frames.data[1]));
  CHECK(wasm_frame_func_offset(frames.data[0]) != SIZE_MAX);
  CHECK(wasm_frame_func_offset(frames.data[0]) < wasm_frame_module_offset(frames.data[0]));
  CHECK(wasm_frame_instance(frames.data[0]) == NULL);
  wasm_frame_t *origin = wasm_trap_origin(trap);
  CHECK(origin != NULL && wasm_frame_func_index(origin) == 1);
  wasm_frame_t *ocopy = wasm_frame_copy(origin);
  CHECK(wasm_frame_module_offset(ocopy) == wasm_frame_module_offset(origin));
  wasm_frame_delete(ocopy);
  wasm_frame_delete(origin);
  wasm_frame_vec_t fcopy;
  wasm_frame_vec_copy(&fcopy, &frames);
  CHECK(fcopy.size == 2);
  wasm_frame_vec_delete(&fcopy);
  wasm_frame_vec_delete(&frames);
  CHECK(trap_contains(trap, "traps!unreachable"));
  wasm_trap_delete(trap);

  /* A host function's trap is an error carrying the wasm frames. */
  wasmtime_func_t host = get_func(ctx, &inst, "host");
  trap = NULL;
  wasmtime_error_t *err = wasmtime_func_call(ctx, &host, NULL, 0, NULL, 0, &trap);
  CHECK(err != NULL && trap == NULL);
  wasmtime_error_wasm_trace(err, &frames);
  CHECK(frames.size == 1 && wasm_frame_func_index(frames.data[0]) == 11);
  wasm_frame_vec_delete(&frames);
  CHECK(error_contains(err, "custom failure"));

  /* Traps made by the host have no code and no frames. */
  trap = wasmtime_trap_new("made here", 9);
  wasmtime_trap_code_t code;
  CHECK(!wasmtime_trap_code(trap, &code));
  CHECK(wasm_trap_origin(trap) == NULL);
  wasm_trap_trace(trap, &frames);
  CHECK(frames.size == 0);
  wasm_frame_vec_delete(&frames);
  wasm_message_t msg;
  wasm_trap_message(trap, &msg);
  CHECK(msg.size == 10 && strcmp(msg.data, "made here") == 0);
  wasm_byte_vec_delete(&msg);
  wasm_trap_delete(trap);

  /* The store is still usable after all those traps. */
  wasmtime_func_t div0 = get_func(ctx, &inst, "div0");
  trap = NULL;
  expect_ok(wasmtime_func_call(ctx, &div0, NULL, 0, NULL, 0, &trap), "div0 again");
  CHECK(trap != NULL);
  wasm_trap_delete(trap);

  /* The message reads like Wasmtime's: the backtrace, then the trap as the cause; a module
   * without a name is `<unknown>`, a function without one `<wasm function N>`. */
  wasmtime_module_t *unnamed = compile_wat(engine, "(module (func (export \"f\") unreachable))");
  wasmtime_instance_t inst2;
  expect_ok(wasmtime_instance_new(ctx, unnamed, NULL, 0, &inst2, &trap), "unnamed");
  wasmtime_func_t f = get_func(ctx, &inst2, "f");
  expect_ok(wasmtime_func_call(ctx, &f, NULL, 0, NULL, 0, &trap), "unnamed f");
  CHECK(trap != NULL);
  wasm_trap_message(trap, &msg);
  const char *head = "error while executing at wasm backtrace:\n    0: ";
  CHECK(strncmp(msg.data, head, strlen(head)) == 0);
  CHECK(strstr(msg.data, " - <unknown>!<wasm function 0>\n\nCaused by:\n    wasm trap: wasm "
                         "`unreachable` instruction executed") != NULL);
  CHECK(msg.data[msg.size - 1] == 0);
  wasm_byte_vec_delete(&msg);
  wasm_trap_delete(trap);
  wasmtime_module_delete(unnamed);

  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  DONE("trap");
  return 0;
}
