/* Modules: text to binary, compilation, validation, imports and exports, serialization. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include <unistd.h>

static int name_is(const wasm_name_t *n, const char *s) {
  return n->size == strlen(s) && memcmp(n->data, s, n->size) == 0;
}

int main(void) {
  wasm_config_t *config = wasm_config_new();
  wasmtime_config_wasm_memory64_set(config, true);
  wasmtime_config_wasm_multi_memory_set(config, true);
  wasm_engine_t *engine = wasm_engine_new_with_config(config);
  const char *wat =
      "(module $m"
      "  (import \"env\" \"f\" (func (param i32 f64) (result i64)))"
      "  (import \"env\" \"g\" (global (mut i32)))"
      "  (import \"env\" \"t\" (table 1 10 funcref))"
      "  (import \"env\" \"m\" (memory 1))"
      "  (func (export \"run\") (param externref) (result f32) f32.const 1.5)"
      "  (global (export \"c\") i64 (i64.const 3))"
      "  (table (export \"tab\") 2 externref)"
      "  (memory (export \"mem\") i64 1 5))";
  wasm_byte_vec_t bin;
  expect_ok(wasmtime_wat2wasm(wat, strlen(wat), &bin), "wat2wasm");
  CHECK(bin.size > 8 && memcmp(bin.data, "\0asm", 4) == 0);

  /* Text errors come back as errors. */
  wasm_byte_vec_t bad;
  CHECK(error_contains(wasmtime_wat2wasm("(module (func (foo)))", 21, &bad), "unknown operator"));

  expect_ok(wasmtime_module_validate(engine, (const uint8_t *)bin.data, bin.size), "validate");
  wasmtime_module_t *module = NULL;
  expect_ok(wasmtime_module_new(engine, (const uint8_t *)bin.data, bin.size, &module), "compile");
  wasm_byte_vec_delete(&bin);

  wasm_importtype_vec_t imports;
  wasmtime_module_imports(module, &imports);
  CHECK(imports.size == 4);
  CHECK(name_is(wasm_importtype_module(imports.data[0]), "env"));
  CHECK(name_is(wasm_importtype_name(imports.data[0]), "f"));
  const wasm_externtype_t *ty = wasm_importtype_type(imports.data[0]);
  CHECK(wasm_externtype_kind(ty) == WASM_EXTERN_FUNC);
  const wasm_functype_t *fty = wasm_externtype_as_functype_const(ty);
  CHECK(fty != NULL && wasm_externtype_as_globaltype_const(ty) == NULL);
  CHECK(wasm_functype_params(fty)->size == 2);
  CHECK(wasm_valtype_kind(wasm_functype_params(fty)->data[0]) == WASM_I32);
  CHECK(wasm_valtype_kind(wasm_functype_params(fty)->data[1]) == WASM_F64);
  CHECK(wasm_functype_results(fty)->size == 1);
  CHECK(wasm_valtype_kind(wasm_functype_results(fty)->data[0]) == WASM_I64);
  const wasm_globaltype_t *gty = wasm_externtype_as_globaltype_const(wasm_importtype_type(imports.data[1]));
  CHECK(gty != NULL && wasm_globaltype_mutability(gty) == WASM_VAR);
  CHECK(wasm_valtype_kind(wasm_globaltype_content(gty)) == WASM_I32);
  const wasm_tabletype_t *tty = wasm_externtype_as_tabletype_const(wasm_importtype_type(imports.data[2]));
  CHECK(tty != NULL && wasm_tabletype_limits(tty)->min == 1 && wasm_tabletype_limits(tty)->max == 10);
  CHECK(wasm_valtype_kind(wasm_tabletype_element(tty)) == WASM_FUNCREF);
  const wasm_memorytype_t *mty = wasm_externtype_as_memorytype_const(wasm_importtype_type(imports.data[3]));
  CHECK(mty != NULL && wasm_memorytype_limits(mty)->min == 1);
  CHECK(wasm_memorytype_limits(mty)->max == wasm_limits_max_default);
  CHECK(!wasmtime_memorytype_is64(mty));
  /* Copies are deep and independent. */
  wasm_importtype_vec_t copy;
  wasm_importtype_vec_copy(&copy, &imports);
  wasm_importtype_vec_delete(&imports);
  CHECK(copy.size == 4 && name_is(wasm_importtype_name(copy.data[3]), "m"));
  wasm_importtype_vec_delete(&copy);

  wasm_exporttype_vec_t exports;
  wasmtime_module_exports(module, &exports);
  CHECK(exports.size == 4);
  CHECK(name_is(wasm_exporttype_name(exports.data[0]), "run"));
  fty = wasm_externtype_as_functype_const(wasm_exporttype_type(exports.data[0]));
  CHECK(wasm_valtype_kind(wasm_functype_params(fty)->data[0]) == WASM_EXTERNREF);
  CHECK(wasm_valtype_kind(wasm_functype_results(fty)->data[0]) == WASM_F32);
  gty = wasm_externtype_as_globaltype_const(wasm_exporttype_type(exports.data[1]));
  CHECK(wasm_globaltype_mutability(gty) == WASM_CONST);
  tty = wasm_externtype_as_tabletype_const(wasm_exporttype_type(exports.data[2]));
  CHECK(wasm_valtype_kind(wasm_tabletype_element(tty)) == WASM_EXTERNREF);
  mty = wasm_externtype_as_memorytype_const(wasm_exporttype_type(exports.data[3]));
  CHECK(wasmtime_memorytype_is64(mty) && wasmtime_memorytype_minimum(mty) == 1);
  uint64_t max = 0;
  CHECK(wasmtime_memorytype_maximum(mty, &max) && max == 5);
  CHECK(!wasmtime_memorytype_isshared(mty));
  wasm_exporttype_vec_delete(&exports);

  /* Clones share the module. */
  wasmtime_module_t *clone = wasmtime_module_clone(module);
  wasmtime_module_delete(module);
  wasmtime_module_exports(clone, &exports);
  CHECK(exports.size == 4);
  wasm_exporttype_vec_delete(&exports);

  /* Invalid binaries fail to validate and compile. */
  const uint8_t junk[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
  wasmtime_error_t *err = wasmtime_module_validate(engine, junk, sizeof junk);
  CHECK(err != NULL);
  wasmtime_error_delete(err);
  wasmtime_module_t *none = NULL;
  err = wasmtime_module_new(engine, junk, sizeof junk, &none);
  CHECK(err != NULL && none == NULL);
  wasmtime_error_delete(err);

  /* Serialized modules load again, from memory and from a file; other bytes are errors. */
  wasm_byte_vec_t ser;
  expect_ok(wasmtime_module_serialize(clone, &ser), "serialize");
  CHECK(ser.size > 0);
  wasmtime_module_t *loaded = NULL;
  expect_ok(wasmtime_module_deserialize(engine, (const uint8_t *)ser.data, ser.size, &loaded),
            "deserialize");
  wasm_exporttype_vec_t e1, e2;
  wasmtime_module_exports(clone, &e1);
  wasmtime_module_exports(loaded, &e2);
  CHECK(loaded != NULL && e1.size == e2.size && e1.size > 0);
  wasm_exporttype_vec_delete(&e1);
  wasm_exporttype_vec_delete(&e2);
  wasmtime_module_delete(loaded);
  char path[] = "/tmp/wasmjit-module-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0 && write(fd, ser.data, ser.size) == (ssize_t)ser.size && close(fd) == 0);
  loaded = NULL;
  expect_ok(wasmtime_module_deserialize_file(engine, path, &loaded), "deserialize_file");
  CHECK(loaded != NULL);
  wasmtime_module_delete(loaded);
  unlink(path);
  wasm_byte_vec_delete(&ser);
  CHECK(error_contains(wasmtime_module_deserialize(engine, junk, sizeof junk, &none), "not a serialized"));
  CHECK(error_contains(wasmtime_module_deserialize_file(engine, "/nonexistent", &none), "failed to read"));
  void *start = (void *)1, *end = (void *)1;
  wasmtime_module_image_range(clone, &start, &end);
  CHECK(start == NULL && end == NULL);

  /* Types built by hand. */
  wasm_memorytype_t *m64 = wasmtime_memorytype_new(2, true, 1, true, false);
  CHECK(m64 == NULL);
  CHECK(wasmtime_memorytype_new(1, false, 0, false, true) == NULL);
  m64 = wasmtime_memorytype_new(1, true, 70000, true, false);
  CHECK(m64 != NULL && wasmtime_memorytype_is64(m64));
  CHECK(wasm_memorytype_limits(m64)->max == 70000);
  wasm_memorytype_t *mcopy = wasm_memorytype_copy(m64);
  wasm_memorytype_delete(m64);
  CHECK(wasmtime_memorytype_minimum(mcopy) == 1);
  wasm_memorytype_delete(mcopy);

  wasmtime_module_delete(clone);
  wasm_engine_delete(engine);

  /* Precompiled code runs in another engine of the same settings, and one whose settings
     change code refuses it, naming the setting. */
  wasm_engine_t *compiler = wasm_engine_new();
  const char *answer = "(module (func (export \"answer\") (param i32) (result i32)"
                       "  (i32.add (local.get 0) (i32.const 41))))";
  expect_ok(wasmtime_wat2wasm(answer, strlen(answer), &bin), "wat2wasm");
  expect_ok(wasmtime_module_new(compiler, (const uint8_t *)bin.data, bin.size, &module), "compile");
  wasm_byte_vec_delete(&bin);
  expect_ok(wasmtime_module_serialize(module, &ser), "serialize");
  wasmtime_module_delete(module);
  wasm_engine_delete(compiler);
  wasm_engine_t *runner = wasm_engine_new();
  expect_ok(wasmtime_module_deserialize(runner, (const uint8_t *)ser.data, ser.size, &loaded),
            "deserialize into a new engine");
  wasmtime_store_t *store = wasmtime_store_new(runner, NULL, NULL);
  wasmtime_context_t *cx = wasmtime_store_context(store);
  wasmtime_instance_t instance;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(cx, loaded, NULL, 0, &instance, &trap), "instantiate");
  CHECK(trap == NULL);
  wasmtime_extern_t f;
  CHECK(wasmtime_instance_export_get(cx, &instance, "answer", 6, &f) && f.kind == WASMTIME_EXTERN_FUNC);
  wasmtime_val_t arg = {.kind = WASMTIME_I32, .of.i32 = 1}, result;
  expect_ok(wasmtime_func_call(cx, &f.of.func, &arg, 1, &result, 1, &trap), "call");
  CHECK(trap == NULL && result.kind == WASMTIME_I32 && result.of.i32 == 42);
  wasmtime_store_delete(store);
  wasmtime_module_delete(loaded);
  wasm_engine_delete(runner);
  wasm_config_t *fuel_config = wasm_config_new();
  wasmtime_config_consume_fuel_set(fuel_config, true);
  wasm_engine_t *fuel = wasm_engine_new_with_config(fuel_config);
  CHECK(error_contains(wasmtime_module_deserialize(fuel, (const uint8_t *)ser.data, ser.size, &none),
                       "Module was compiled without fuel support but it is enabled for the host"));
  wasm_engine_delete(fuel);
  wasm_byte_vec_delete(&ser);
  DONE("module");
  return 0;
}
