/* wasm_config_t and the wasmtime_config_*_set functions. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include <unistd.h>

static int finalized;
static void finalize(void *p) { finalized += *(int *)p; }

int main(void) {
  /* Every supported setting, then an engine that compiles and runs code. */
  wasm_config_t *config = wasm_config_new();
  CHECK(config != NULL);
  wasmtime_config_debug_info_set(config, true);
  wasmtime_config_consume_fuel_set(config, true);
  wasmtime_config_epoch_interruption_set(config, true);
  wasmtime_config_max_wasm_stack_set(config, 256 * 1024);
  wasmtime_config_wasm_tail_call_set(config, true);
  wasmtime_config_wasm_reference_types_set(config, true);
  wasmtime_config_wasm_function_references_set(config, false);
  wasmtime_config_wasm_gc_set(config, false);
  wasmtime_config_wasm_simd_set(config, true);
  wasmtime_config_wasm_relaxed_simd_set(config, true);
  wasmtime_config_wasm_relaxed_simd_deterministic_set(config, false);
  wasmtime_config_wasm_bulk_memory_set(config, true);
  wasmtime_config_wasm_multi_value_set(config, true);
  wasmtime_config_wasm_multi_memory_set(config, true);
  wasmtime_config_wasm_memory64_set(config, true);
  wasmtime_config_wasm_wide_arithmetic_set(config, false);
  wasmtime_config_strategy_set(config, WASMTIME_STRATEGY_CRANELIFT);
  wasmtime_config_parallel_compilation_set(config, false);
  wasmtime_config_cranelift_debug_verifier_set(config, false);
  wasmtime_config_cranelift_nan_canonicalization_set(config, false);
  wasmtime_config_cranelift_opt_level_set(config, WASMTIME_OPT_LEVEL_SPEED_AND_SIZE);
  wasmtime_config_profiler_set(config, WASMTIME_PROFILING_STRATEGY_NONE);
  wasmtime_config_memory_may_move_set(config, true);
  wasmtime_config_memory_reservation_set(config, 1 << 20);
  wasmtime_config_memory_guard_size_set(config, 1 << 16);
  wasmtime_config_memory_reservation_for_growth_set(config, 0);
  wasmtime_config_native_unwind_info_set(config, true);
  wasmtime_config_macos_use_mach_ports_set(config, false);
  wasmtime_config_memory_init_cow_set(config, true);
  wasm_engine_t *engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);

  /* With a small memory reservation, memory accesses are bounds-checked explicitly. */
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  expect_ok(wasmtime_context_set_fuel(ctx, 100000), "set_fuel");
  wasmtime_context_set_epoch_deadline(ctx, 1);
  wasmtime_module_t *module = compile_wat(
      engine, "(module (memory (export \"m\") 1 2)"
              "  (func (export \"load\") (param i32) (result i32) (i32.load (local.get 0))))");
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, NULL, 0, &inst, &trap), "instantiate");
  CHECK(trap == NULL);
  wasmtime_func_t load = get_func(ctx, &inst, "load");
  wasmtime_val_t arg = {.kind = WASMTIME_I32, .of = {.i32 = 65536}};
  wasmtime_val_t res;
  expect_ok(wasmtime_func_call(ctx, &load, &arg, 1, &res, 1, &trap), "call");
  CHECK(trap != NULL);
  wasmtime_trap_code_t code;
  CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS);
  wasm_trap_delete(trap);
  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);

  /* GC's types are there: an engine with GC on is made. */
  config = wasm_config_new();
  wasmtime_config_wasm_gc_set(config, true);
  engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  wasm_engine_delete(engine);

  /* Asking for what wasmjit cannot do makes engine creation fail. */
  config = wasm_config_new();
  wasmtime_config_strategy_set(config, 2); /* Winch */
  CHECK(wasm_engine_new_with_config(config) == NULL);
  config = wasm_config_new();
  wasmtime_config_profiler_set(config, WASMTIME_PROFILING_STRATEGY_JITDUMP);
  CHECK(wasm_engine_new_with_config(config) == NULL);
  config = wasm_config_new();
  wasmtime_config_cranelift_flag_enable(config, "no_such_flag");
  CHECK(wasm_engine_new_with_config(config) == NULL);
  config = wasm_config_new();
  wasmtime_config_cranelift_flag_set(config, "opt_level", "fastest_please");
  CHECK(wasm_engine_new_with_config(config) == NULL);
  /* Known Cranelift settings and NaN canonicalization are applied. */
  config = wasm_config_new();
  wasmtime_config_cranelift_flag_enable(config, "enable_verifier");
  wasmtime_config_cranelift_flag_set(config, "opt_level", "none");
  wasmtime_config_cranelift_nan_canonicalization_set(config, true);
  engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  {
    /* 0/0 gives some NaN; canonicalized, it is exactly 0x7fc00000. */
    const char *wat = "(module (func (export \"nan\") (param f32) (result i32)"
                      " (i32.reinterpret_f32 (f32.div (local.get 0) (local.get 0)))))";
    wasm_byte_vec_t wasm;
    expect_ok(wasmtime_wat2wasm(wat, strlen(wat), &wasm), "wat2wasm");
    wasmtime_module_t *m = NULL;
    expect_ok(wasmtime_module_new(engine, (const uint8_t *)wasm.data, wasm.size, &m), "nan module");
    wasm_byte_vec_delete(&wasm);
    wasmtime_store_t *s = wasmtime_store_new(engine, NULL, NULL);
    wasmtime_context_t *cx = wasmtime_store_context(s);
    wasmtime_instance_t in;
    wasm_trap_t *t = NULL;
    expect_ok(wasmtime_instance_new(cx, m, NULL, 0, &in, &t), "nan instance");
    wasmtime_extern_t f;
    CHECK(wasmtime_instance_export_get(cx, &in, "nan", 3, &f));
    wasmtime_val_t arg = {.kind = WASMTIME_F32, .of = {.f32 = 0.0f}}, res;
    expect_ok(wasmtime_func_call(cx, &f.of.func, &arg, 1, &res, 1, &t), "nan call");
    CHECK(t == NULL && (uint32_t)res.of.i32 == 0x7fc00000u);
    wasmtime_store_delete(s);
    wasmtime_module_delete(m);
  }
  wasm_engine_delete(engine);
  config = wasm_config_new();
  wasmtime_config_max_wasm_stack_set(config, 0);
  CHECK(wasm_engine_new_with_config(config) == NULL);

  /* Turning an unsupported setting on and off again is fine. */
  config = wasm_config_new();
  wasmtime_config_strategy_set(config, 2); /* Winch */
  wasmtime_config_strategy_set(config, WASMTIME_STRATEGY_CRANELIFT);
  engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  wasm_engine_delete(engine);

  /* Wide arithmetic: off by default (a module using it is refused), on when set. */
  {
    const char *wat = "(module (func (export \"f\") (param i64 i64) (result i64 i64)"
                      "  (i64.mul_wide_u (local.get 0) (local.get 1))))";
    wasm_byte_vec_t wasm;
    expect_ok(wasmtime_wat2wasm(wat, strlen(wat), &wasm), "wat2wasm");
    engine = wasm_engine_new();
    wasmtime_module_t *m = NULL;
    CHECK(error_contains(wasmtime_module_new(engine, (const uint8_t *)wasm.data, wasm.size, &m),
                         "wasm_wide_arithmetic"));
    wasm_engine_delete(engine);
    config = wasm_config_new();
    wasmtime_config_wasm_wide_arithmetic_set(config, true);
    engine = wasm_engine_new_with_config(config);
    CHECK(engine != NULL);
    expect_ok(wasmtime_module_new(engine, (const uint8_t *)wasm.data, wasm.size, &m),
              "wide-arithmetic module");
    wasmtime_module_delete(m);
    wasm_engine_delete(engine);
    wasm_byte_vec_delete(&wasm);
  }

  /* Exception handling: off by default (a module using it is refused), on when set. */
  {
    const char *wat = "(module (tag $e (param i32))"
                      "  (func (export \"f\") (param i32) (result i32)"
                      "    (block $h (result i32)"
                      "      (try_table (catch $e $h) (throw $e (local.get 0)))"
                      "      (i32.const -1))))";
    wasm_byte_vec_t wasm;
    expect_ok(wasmtime_wat2wasm(wat, strlen(wat), &wasm), "wat2wasm");
    engine = wasm_engine_new();
    wasmtime_module_t *m = NULL;
    CHECK(error_contains(wasmtime_module_new(engine, (const uint8_t *)wasm.data, wasm.size, &m),
                         "wasm_exceptions"));
    CHECK(m == NULL);
    wasm_engine_delete(engine);
    config = wasm_config_new();
    wasmtime_config_wasm_exceptions_set(config, true);
    engine = wasm_engine_new_with_config(config);
    expect_ok(wasmtime_module_new(engine, (const uint8_t *)wasm.data, wasm.size, &m), "EH module");
    wasm_byte_vec_delete(&wasm);
    wasmtime_store_t *s = wasmtime_store_new(engine, NULL, NULL);
    wasmtime_context_t *cx = wasmtime_store_context(s);
    wasmtime_instance_t in;
    wasm_trap_t *t = NULL;
    expect_ok(wasmtime_instance_new(cx, m, NULL, 0, &in, &t), "EH instance");
    wasmtime_func_t f = get_func(cx, &in, "f");
    wasmtime_val_t arg = {.kind = WASMTIME_I32, .of = {.i32 = 42}}, res;
    expect_ok(wasmtime_func_call(cx, &f, &arg, 1, &res, 1, &t), "EH call");
    /* The thrown payload arrives at the catch's label. */
    CHECK(t == NULL && res.kind == WASMTIME_I32 && res.of.i32 == 42);
    wasmtime_store_delete(s);
    wasmtime_module_delete(m);
    wasm_engine_delete(engine);
  }

  /* The perf map profiler names compiled functions in /tmp/perf-<pid>.map. */
  config = wasm_config_new();
  wasmtime_config_profiler_set(config, WASMTIME_PROFILING_STRATEGY_PERFMAP);
  engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  {
    wasm_byte_vec_t wasm;
    const char *wat = "(module (func $answer_to_everything (export \"f\")))";
    expect_ok(wasmtime_wat2wasm(wat, strlen(wat), &wasm), "wat2wasm");
    wasmtime_module_t *m = NULL;
    expect_ok(wasmtime_module_new(engine, (const uint8_t *)wasm.data, wasm.size, &m), "perfmap module");
    wasm_byte_vec_delete(&wasm);
    char path[64];
    snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
    FILE *map = fopen(path, "r");
    CHECK(map != NULL);
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, map)) {
      found |= strstr(line, "answer_to_everything") != NULL;
    }
    fclose(map);
    unlink(path);
    CHECK(found);
    wasmtime_module_delete(m);
  }
  wasm_engine_delete(engine);

  /* Deterministic relaxed SIMD is what wasmjit always does. */
  config = wasm_config_new();
  wasmtime_config_wasm_relaxed_simd_deterministic_set(config, true);
  engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  wasm_engine_delete(engine);

  /* A host memory creator is refused, and its finalizer still runs. */
  int token = 5;
  config = wasm_config_new();
  wasmtime_memory_creator_t creator = {.env = &token, .new_memory = NULL, .finalizer = finalize};
  wasmtime_config_host_memory_creator_set(config, &creator);
  CHECK(wasm_engine_new_with_config(config) == NULL);
  CHECK(finalized == 5);

  /* Targets: only the host's. */
  config = wasm_config_new();
  CHECK(error_contains(wasmtime_config_target_set(config, "riscv64gc-unknown-none-elf"),
                       "not supported"));
#if defined(__x86_64__)
  expect_ok(wasmtime_config_target_set(config, "x86_64-unknown-linux-gnu"), "host target");
#elif defined(__aarch64__)
  expect_ok(wasmtime_config_target_set(config, "aarch64-unknown-linux-gnu"), "host target");
#endif
  wasm_config_delete(config);

  /* The compilation cache's configuration (nothing is cached): NULL or a readable file. */
  config = wasm_config_new();
  expect_ok(wasmtime_config_cache_config_load(config, NULL), "default cache config");
  CHECK(error_contains(wasmtime_config_cache_config_load(config, "/nonexistent/cache.toml"),
                       "cache config"));
  char path[] = "/tmp/wasmjit-cache-config-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *toml = fdopen(fd, "w");
  CHECK(toml != NULL);
  fputs("[cache]\nenabled = true\n", toml);
  fclose(toml);
  expect_ok(wasmtime_config_cache_config_load(config, path), "cache config file");
  remove(path);
  /* Threads: on or off, and an engine without them rejects atomics. */
  wasmtime_config_wasm_threads_set(config, false);
  engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  {
    const char *atomic = "(module (memory 1) (func (drop (i32.atomic.load (i32.const 0)))))";
    wasm_byte_vec_t bin;
    expect_ok(wasmtime_wat2wasm(atomic, strlen(atomic), &bin), "wat2wasm");
    wasmtime_module_t *module = NULL;
    wasmtime_error_t *refused =
        wasmtime_module_new(engine, (const uint8_t *)bin.data, bin.size, &module);
    CHECK(refused != NULL && module == NULL);
    wasmtime_error_delete(refused);
    wasm_byte_vec_delete(&bin);
  }
  wasm_engine_delete(engine);
  config = wasm_config_new();
  wasmtime_config_wasm_threads_set(config, true);
  engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  wasm_engine_delete(engine);

  DONE("config");
  return 0;
}
