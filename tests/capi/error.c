/* Errors: made by the host, returned by the API, messages, causes, frames. */
#include "check.h"

int main(void) {
  wasmtime_error_t *err = wasmtime_error_new("something broke");
  CHECK(err != NULL);
  wasm_name_t msg;
  wasmtime_error_message(err, &msg);
  CHECK(msg.size == 15 && memcmp(msg.data, "something broke", 15) == 0);
  wasm_byte_vec_delete(&msg);
  int status = -1;
  CHECK(!wasmtime_error_exit_status(err, &status) && status == -1);
  wasm_frame_vec_t frames;
  wasmtime_error_wasm_trace(err, &frames);
  CHECK(frames.size == 0);
  wasm_frame_vec_delete(&frames);
  wasmtime_error_delete(err);

  /* An error with a cause: the message lists it. */
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_module_t *m = NULL;
  err = wasmtime_module_new(engine, (const uint8_t *)"\0asm\1\0\0\0\1", 9, &m);
  CHECK(err != NULL);
  wasmtime_error_message(err, &msg);
  CHECK(msg.size > 0);
  wasm_byte_vec_delete(&msg);
  wasmtime_error_delete(err);
  const char *bad_wat = "(module (func $f (result i32) (i64.const 1)))";
  wasm_byte_vec_t bin;
  expect_ok(wasmtime_wat2wasm(bad_wat, strlen(bad_wat), &bin), "wat2wasm");
  CHECK(error_contains(wasmtime_module_new(engine, (const uint8_t *)bin.data, bin.size, &m), "type mismatch"));
  wasm_byte_vec_delete(&bin);

  /* Invalid UTF-8 in text. */
  CHECK(error_contains(wasmtime_wat2wasm("(module \xff)", 10, &bin), "utf-8"));
  /* Deleting NULL is fine. */
  wasmtime_error_delete(NULL);
  wasm_engine_delete(engine);
  DONE("error");
  return 0;
}
