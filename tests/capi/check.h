/* Helpers shared by the C API test programs. */
#ifndef WASMJIT_CAPI_TEST_CHECK_H
#define WASMJIT_CAPI_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasmtime.h>

static int checks_passed;

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);            \
      exit(1);                                                                             \
    }                                                                                      \
    checks_passed++;                                                                       \
  } while (0)

/* Prints an error's message to stderr and exits if there is one. */
static inline void expect_ok(wasmtime_error_t *err, const char *what) {
  if (err != NULL) {
    wasm_name_t msg;
    wasmtime_error_message(err, &msg);
    fprintf(stderr, "%s failed: %.*s\n", what, (int)msg.size, msg.data);
    wasm_byte_vec_delete(&msg);
    wasmtime_error_delete(err);
    exit(1);
  }
  checks_passed++;
}

/* True if the error's message contains `needle`; frees the error. */
static inline int error_contains(wasmtime_error_t *err, const char *needle) {
  if (err == NULL) {
    return 0;
  }
  wasm_name_t msg;
  wasmtime_error_message(err, &msg);
  char *text = (char *)malloc(msg.size + 1);
  memcpy(text, msg.data, msg.size);
  text[msg.size] = 0;
  int found = strstr(text, needle) != NULL;
  if (!found) {
    fprintf(stderr, "message \"%s\" lacks \"%s\"\n", text, needle);
  }
  free(text);
  wasm_byte_vec_delete(&msg);
  wasmtime_error_delete(err);
  return found;
}

/* True if the trap's message contains `needle` (the trap is not freed). */
static inline int trap_contains(const wasm_trap_t *trap, const char *needle) {
  wasm_message_t msg;
  wasm_trap_message(trap, &msg);
  int found = strstr(msg.data, needle) != NULL;
  if (!found) {
    fprintf(stderr, "trap message \"%s\" lacks \"%s\"\n", msg.data, needle);
  }
  wasm_byte_vec_delete(&msg);
  return found;
}

/* Compiles a module from text. */
static inline wasmtime_module_t *compile_wat(wasm_engine_t *engine, const char *wat) {
  wasm_byte_vec_t bin;
  expect_ok(wasmtime_wat2wasm(wat, strlen(wat), &bin), "wat2wasm");
  wasmtime_module_t *module = NULL;
  expect_ok(wasmtime_module_new(engine, (const uint8_t *)bin.data, bin.size, &module),
            "module_new");
  wasm_byte_vec_delete(&bin);
  return module;
}

/* Looks up an exported function. */
static inline wasmtime_func_t get_func(wasmtime_context_t *ctx, const wasmtime_instance_t *inst,
                                       const char *name) {
  wasmtime_extern_t item;
  if (!wasmtime_instance_export_get(ctx, inst, name, strlen(name), &item) ||
      item.kind != WASMTIME_EXTERN_FUNC) {
    fprintf(stderr, "no function export %s\n", name);
    exit(1);
  }
  return item.of.func;
}

#define DONE(name) printf("%s: %d checks passed\n", name, checks_passed)

#endif
