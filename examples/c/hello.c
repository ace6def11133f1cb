/*
 * hello.c: a wasm module calls a host function.
 *
 * Build (from the repository root, after `cargo build --release -p wasmjit-capi`):
 *   cc examples/c/hello.c -I capi/include -L target/release -lwasmjit \
 *      -Wl,-rpath,target/release -o hello && ./hello
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasmtime.h>

static const char *HELLO_WAT =
    "(module\n"
    "  (func $hello (import \"\" \"hello\"))\n"
    "  (func (export \"run\") (call $hello)))\n";

static void exit_with_error(const char *message, wasmtime_error_t *error, wasm_trap_t *trap) {
  fprintf(stderr, "error: %s\n", message);
  wasm_byte_vec_t text;
  if (error != NULL) {
    wasmtime_error_message(error, &text);
    wasmtime_error_delete(error);
  } else {
    wasm_trap_message(trap, &text);
    wasm_trap_delete(trap);
  }
  fprintf(stderr, "%.*s\n", (int)text.size, text.data);
  wasm_byte_vec_delete(&text);
  exit(1);
}

/* The host function: wasm calls it with no arguments and expects no results. */
static wasm_trap_t *hello_callback(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                                   size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)results; (void)nresults;
  printf("Calling back...\n");
  printf("> Hello World!\n");
  return NULL;
}

int main(void) {
  printf("Initializing...\n");
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *context = wasmtime_store_context(store);

  printf("Compiling module...\n");
  wasm_byte_vec_t wasm;
  wasmtime_error_t *error = wasmtime_wat2wasm(HELLO_WAT, strlen(HELLO_WAT), &wasm);
  if (error != NULL) {
    exit_with_error("failed to parse the text", error, NULL);
  }
  wasmtime_module_t *module = NULL;
  error = wasmtime_module_new(engine, (const uint8_t *)wasm.data, wasm.size, &module);
  wasm_byte_vec_delete(&wasm);
  if (error != NULL) {
    exit_with_error("failed to compile the module", error, NULL);
  }

  printf("Creating callback...\n");
  wasm_functype_t *hello_ty = wasm_functype_new_0_0();
  wasmtime_func_t hello;
  wasmtime_func_new(context, hello_ty, hello_callback, NULL, NULL, &hello);
  wasm_functype_delete(hello_ty);

  printf("Instantiating module...\n");
  wasm_trap_t *trap = NULL;
  wasmtime_instance_t instance;
  wasmtime_extern_t import = {.kind = WASMTIME_EXTERN_FUNC, .of = {.func = hello}};
  error = wasmtime_instance_new(context, module, &import, 1, &instance, &trap);
  if (error != NULL || trap != NULL) {
    exit_with_error("failed to instantiate", error, trap);
  }

  printf("Extracting export...\n");
  wasmtime_extern_t run;
  if (!wasmtime_instance_export_get(context, &instance, "run", 3, &run) ||
      run.kind != WASMTIME_EXTERN_FUNC) {
    fprintf(stderr, "error: no function export `run`\n");
    return 1;
  }

  printf("Calling export...\n");
  error = wasmtime_func_call(context, &run.of.func, NULL, 0, NULL, 0, &trap);
  if (error != NULL || trap != NULL) {
    exit_with_error("failed to call `run`", error, trap);
  }

  printf("All finished!\n");
  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  return 0;
}
