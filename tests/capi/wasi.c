/* WASI through the C API, set up the way a Wasmtime host does it: a wasi_config_t given to
 * the store, the WASI functions defined in a linker, the module's default export (`_start`)
 * called. The guests are the programs of tests/wasi/. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include "check.h"
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file tests/wasi/<name>.wasm, found from this source file's path. */
static void program_path(const char *name, char *out, size_t size) {
  const char *file = __FILE__;
  const char *slash = strrchr(file, '/');
  int dir_len = slash ? (int)(slash - file) : 1;
  snprintf(out, size, "%.*s/../wasi/%s.wasm", dir_len, slash ? file : ".", name);
}

static wasmtime_module_t *load(wasm_engine_t *engine, const char *name) {
  char path[4096];
  program_path(name, path, sizeof path);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  wasm_byte_vec_t bytes;
  wasm_byte_vec_new_uninitialized(&bytes, (size_t)size);
  CHECK(fread(bytes.data, 1, (size_t)size, f) == (size_t)size);
  fclose(f);
  wasmtime_module_t *module = NULL;
  expect_ok(wasmtime_module_new(engine, (const uint8_t *)bytes.data, bytes.size, &module),
            "wasmtime_module_new");
  wasm_byte_vec_delete(&bytes);
  return module;
}

static char *read_file(const char *path) {
  static char buf[8192];
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* Instantiates `module` in a fresh store with `config` and calls `_start`; returns the error
 * (NULL when the guest returned normally). A trap fails the test. */
static wasmtime_error_t *run(wasm_engine_t *engine, wasmtime_linker_t *linker,
                             wasmtime_module_t *module, wasi_config_t *config) {
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *context = wasmtime_store_context(store);
  expect_ok(wasmtime_context_set_wasi(context, config), "wasmtime_context_set_wasi");
  wasmtime_instance_t instance;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_linker_instantiate(linker, context, module, &instance, &trap),
            "wasmtime_linker_instantiate");
  CHECK(trap == NULL);
  wasmtime_extern_t start;
  CHECK(wasmtime_instance_export_get(context, &instance, "_start", 6, &start));
  CHECK(start.kind == WASMTIME_EXTERN_FUNC);
  wasmtime_error_t *err = wasmtime_func_call(context, &start.of.func, NULL, 0, NULL, 0, &trap);
  CHECK(trap == NULL);
  wasmtime_store_delete(store);
  return err;
}

int main(void) {
  char tmp[] = "/tmp/wasmjit-capi-wasi-XXXXXX";
  CHECK(mkdtemp(tmp) != NULL);
  char out_path[256], err_path[256], sandbox[256];
  snprintf(out_path, sizeof out_path, "%s/stdout", tmp);
  snprintf(err_path, sizeof err_path, "%s/stderr", tmp);
  snprintf(sandbox, sizeof sandbox, "%s/sandbox", tmp);

  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_linker_t *linker = wasmtime_linker_new(engine);
  expect_ok(wasmtime_linker_define_wasi(linker), "wasmtime_linker_define_wasi");

  /* Hello world, stdout and stderr to files. */
  wasmtime_module_t *hello = load(engine, "hello");
  wasi_config_t *config = wasi_config_new();
  CHECK(wasi_config_set_stdout_file(config, out_path));
  CHECK(wasi_config_set_stderr_file(config, err_path));
  CHECK(run(engine, linker, hello, config) == NULL);
  printf("hello stdout: %s", read_file(out_path));
  printf("hello stderr: %s", read_file(err_path));

  /* The same module through the linker's default export, as Wasmtime's example host does. */
  {
    wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
    wasmtime_context_t *context = wasmtime_store_context(store);
    config = wasi_config_new();
    CHECK(wasi_config_set_stdout_file(config, out_path));
    expect_ok(wasmtime_context_set_wasi(context, config), "wasmtime_context_set_wasi");
    expect_ok(wasmtime_linker_module(linker, context, "", 0, hello), "wasmtime_linker_module");
    wasmtime_func_t func;
    expect_ok(wasmtime_linker_get_default(linker, context, "", 0, &func),
              "wasmtime_linker_get_default");
    wasm_trap_t *trap = NULL;
    expect_ok(wasmtime_func_call(context, &func, NULL, 0, NULL, 0, &trap), "_start");
    CHECK(trap == NULL);
    printf("default export: %s", read_file(out_path));
    wasmtime_store_delete(store);
  }

  /* argv and environment. */
  wasmtime_module_t *args_env = load(engine, "args_env");
  config = wasi_config_new();
  const char *argv[] = {"prog", "first", "second arg"};
  CHECK(wasi_config_set_argv(config, 3, argv));
  const char *names[] = {"GREETING", "OTHER"};
  const char *values[] = {"from C", "x"};
  CHECK(wasi_config_set_env(config, 2, names, values));
  CHECK(wasi_config_set_stdout_file(config, out_path));
  CHECK(run(engine, linker, args_env, config) == NULL);
  printf("%s", read_file(out_path));

  /* proc_exit: an error with an exit status. */
  wasmtime_module_t *exit_module = load(engine, "exit");
  config = wasi_config_new();
  const char *exit_argv[] = {"exit", "9"};
  CHECK(wasi_config_set_argv(config, 2, exit_argv));
  wasmtime_error_t *err = run(engine, linker, exit_module, config);
  CHECK(err != NULL);
  int status = -1;
  CHECK(wasmtime_error_exit_status(err, &status));
  printf("exit status: %d\n", status);
  wasmtime_error_delete(err);
  err = wasmtime_error_new("not an exit");
  status = -1;
  CHECK(!wasmtime_error_exit_status(err, &status));
  CHECK(status == -1);
  wasmtime_error_delete(err);

  /* stdin from bytes (the vector is taken over). */
  {
    wasmtime_module_t *echo = NULL;
    const char *wat =
        "(module"
        "  (import \"wasi_snapshot_preview1\" \"fd_read\""
        "    (func $read (param i32 i32 i32 i32) (result i32)))"
        "  (import \"wasi_snapshot_preview1\" \"fd_write\""
        "    (func $write (param i32 i32 i32 i32) (result i32)))"
        "  (memory (export \"memory\") 1)"
        "  (func (export \"_start\")"
        "    (i32.store (i32.const 0) (i32.const 64))"
        "    (i32.store (i32.const 4) (i32.const 32))"
        "    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
        "    (i32.store (i32.const 4) (i32.load (i32.const 8)))"
        "    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))";
    wasm_byte_vec_t wasm;
    expect_ok(wasmtime_wat2wasm(wat, strlen(wat), &wasm), "wasmtime_wat2wasm");
    expect_ok(wasmtime_module_new(engine, (const uint8_t *)wasm.data, wasm.size, &echo),
              "wasmtime_module_new");
    wasm_byte_vec_delete(&wasm);
    config = wasi_config_new();
    wasm_byte_vec_t input;
    wasm_byte_vec_new(&input, 12, "from stdin\n!");
    wasi_config_set_stdin_bytes(config, &input);
    CHECK(input.size == 0);
    CHECK(wasi_config_set_stdout_file(config, out_path));
    CHECK(run(engine, linker, echo, config) == NULL);
    printf("echo: %s\n", read_file(out_path));
    wasmtime_module_delete(echo);
  }

  /* A preopened directory: read-write, then read-only. */
  CHECK(mkdir(sandbox, 0755) == 0);
  wasmtime_module_t *files = load(engine, "files");
  config = wasi_config_new();
  CHECK(wasi_config_preopen_dir(config, sandbox, "/sandbox",
                                WASMTIME_WASI_DIR_PERMS_READ | WASMTIME_WASI_DIR_PERMS_WRITE,
                                WASMTIME_WASI_FILE_PERMS_READ | WASMTIME_WASI_FILE_PERMS_WRITE));
  CHECK(wasi_config_set_stdout_file(config, out_path));
  CHECK(run(engine, linker, files, config) == NULL);
  char *text = read_file(out_path);
  CHECK(strstr(text, "read 23 bytes: first line\n") == text);
  CHECK(strstr(text, "open /sandbox/../outside.txt: refused errno=63\n") != NULL);
  CHECK(strstr(text, "path_open /etc/passwd: errno=63\n") != NULL);
  printf("read-write preopen: ok\n");

  config = wasi_config_new();
  CHECK(wasi_config_preopen_dir(config, sandbox, "/sandbox", WASMTIME_WASI_DIR_PERMS_READ,
                                WASMTIME_WASI_FILE_PERMS_READ));
  CHECK(wasi_config_set_stdout_file(config, out_path));
  err = run(engine, linker, files, config);
  CHECK(err != NULL);
  CHECK(wasmtime_error_exit_status(err, &status) && status == 1);
  wasmtime_error_delete(err);
  printf("read-only preopen: %s", read_file(out_path));

  /* Failures are reported, not fatal. */
  config = wasi_config_new();
  CHECK(!wasi_config_preopen_dir(config, "/nonexistent/wasmjit", "/x",
                                 WASMTIME_WASI_DIR_PERMS_READ, WASMTIME_WASI_FILE_PERMS_READ));
  CHECK(!wasi_config_set_stdout_file(config, "/nonexistent/wasmjit/out"));
  CHECK(!wasi_config_set_stdin_file(config, "/nonexistent/wasmjit/in"));
  wasi_config_inherit_argv(config);
  wasi_config_inherit_env(config);
  wasi_config_inherit_stdin(config);
  wasi_config_inherit_stdout(config);
  wasi_config_inherit_stderr(config);
  wasi_config_delete(config);

  rmdir(sandbox);
  unlink(out_path);
  unlink(err_path);
  rmdir(tmp);
  wasmtime_module_delete(files);
  wasmtime_module_delete(exit_module);
  wasmtime_module_delete(args_env);
  wasmtime_module_delete(hello);
  wasmtime_linker_delete(linker);
  wasm_engine_delete(engine);
  printf("wasi: %d checks passed\n", checks_passed);
  return 0;
}
