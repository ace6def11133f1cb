/* Stores and contexts: data and finalizers, fuel, epochs, limits. */
#include "check.h"

static int data_finalized;
static void finalize_data(void *p) { data_finalized = *(int *)p; }

static wasm_engine_t *epoch_engine;
static int ticks;
static wasm_trap_t *tick(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                         size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)results; (void)nresults;
  ticks++;
  wasmtime_engine_increment_epoch(epoch_engine);
  return NULL;
}

static int callbacks;
static int callback_finalized;
static void finalize_callback(void *p) { (void)p; callback_finalized++; }
static wasmtime_error_t *on_deadline(wasmtime_context_t *context, void *data, uint64_t *delta,
                                     wasmtime_update_deadline_kind_t *kind) {
  if (context == NULL) {
    abort();
  }
  int limit = *(int *)data;
  callbacks++;
  if (callbacks > limit) {
    return wasmtime_error_new("too many epochs");
  }
  *delta = 1;
  *kind = WASMTIME_UPDATE_DEADLINE_CONTINUE;
  return NULL;
}

static const char *LOOP_WAT =
    "(module (import \"\" \"tick\" (func $tick))"
    "  (func (export \"run\") (param $n i32)"
    "    (loop $l (call $tick)"
    "      (local.set $n (i32.sub (local.get $n) (i32.const 1)))"
    "      (br_if $l (i32.ne (local.get $n) (i32.const 0)))))"
    "  (func (export \"spin\") (loop $l (br $l))))";

static void instantiate_loop(wasm_engine_t *engine, wasmtime_context_t *ctx,
                             wasmtime_instance_t *inst) {
  wasmtime_module_t *module = compile_wat(engine, LOOP_WAT);
  wasm_functype_t *ty = wasm_functype_new_0_0();
  wasmtime_func_t tick_fn;
  wasmtime_func_new(ctx, ty, tick, NULL, NULL, &tick_fn);
  wasm_functype_delete(ty);
  wasmtime_extern_t import = {.kind = WASMTIME_EXTERN_FUNC, .of = {.func = tick_fn}};
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, &import, 1, inst, &trap), "instantiate");
  CHECK(trap == NULL);
  wasmtime_module_delete(module);
}

int main(void) {
  /* Data and its finalizer. */
  wasm_engine_t *engine = wasm_engine_new();
  int data = 42, other = 7;
  wasmtime_store_t *store = wasmtime_store_new(engine, &data, finalize_data);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  CHECK(wasmtime_context_get_data(ctx) == &data);
  wasmtime_context_set_data(ctx, &other);
  CHECK(wasmtime_context_get_data(ctx) == &other);
  wasmtime_context_gc(ctx);
  /* Fuel is an error unless configured. */
  uint64_t fuel = 0;
  CHECK(error_contains(wasmtime_context_set_fuel(ctx, 10), "fuel is not configured"));
  CHECK(error_contains(wasmtime_context_get_fuel(ctx, &fuel), "fuel is not configured"));
  wasmtime_store_delete(store);
  CHECK(data_finalized == 7);
  wasm_engine_delete(engine);

  /* Fuel. */
  wasm_config_t *config = wasm_config_new();
  wasmtime_config_consume_fuel_set(config, true);
  engine = wasm_engine_new_with_config(config);
  epoch_engine = engine;
  store = wasmtime_store_new(engine, NULL, NULL);
  ctx = wasmtime_store_context(store);
  expect_ok(wasmtime_context_get_fuel(ctx, &fuel), "get_fuel");
  CHECK(fuel == 0);
  expect_ok(wasmtime_context_set_fuel(ctx, 10000), "set_fuel");
  expect_ok(wasmtime_context_get_fuel(ctx, &fuel), "get_fuel");
  CHECK(fuel == 10000);
  wasmtime_instance_t inst;
  instantiate_loop(engine, ctx, &inst);
  wasmtime_func_t run = get_func(ctx, &inst, "run");
  wasmtime_val_t arg = {.kind = WASMTIME_I32, .of = {.i32 = 10}};
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_func_call(ctx, &run, &arg, 1, NULL, 0, &trap), "run 10");
  CHECK(trap == NULL && ticks == 10);
  expect_ok(wasmtime_context_get_fuel(ctx, &fuel), "get_fuel");
  CHECK(fuel < 10000 && fuel > 9000);
  uint64_t per_run = 10000 - fuel;
  /* The same call costs the same again: metering is deterministic. */
  expect_ok(wasmtime_func_call(ctx, &run, &arg, 1, NULL, 0, &trap), "run 10 again");
  uint64_t fuel2;
  expect_ok(wasmtime_context_get_fuel(ctx, &fuel2), "get_fuel");
  CHECK(fuel - fuel2 == per_run);
  /* Running out traps with OUT_OF_FUEL, and the store stays usable. */
  wasmtime_func_t spin = get_func(ctx, &inst, "spin");
  expect_ok(wasmtime_func_call(ctx, &spin, NULL, 0, NULL, 0, &trap), "spin");
  CHECK(trap != NULL);
  wasmtime_trap_code_t code;
  CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_OUT_OF_FUEL);
  wasm_trap_delete(trap);
  trap = NULL;
  expect_ok(wasmtime_context_set_fuel(ctx, 10000), "refuel");
  expect_ok(wasmtime_func_call(ctx, &run, &arg, 1, NULL, 0, &trap), "run after refuel");
  CHECK(trap == NULL);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);

  /* Epochs: the deadline traps with INTERRUPT. */
  config = wasm_config_new();
  wasmtime_config_epoch_interruption_set(config, true);
  engine = wasm_engine_new_with_config(config);
  epoch_engine = engine;
  store = wasmtime_store_new(engine, NULL, NULL);
  ctx = wasmtime_store_context(store);
  instantiate_loop(engine, ctx, &inst);
  run = get_func(ctx, &inst, "run");
  wasmtime_context_set_epoch_deadline(ctx, 5);
  ticks = 0;
  arg.of.i32 = 1000;
  expect_ok(wasmtime_func_call(ctx, &run, &arg, 1, NULL, 0, &trap), "run to the deadline");
  CHECK(trap != NULL);
  CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_INTERRUPT);
  CHECK(ticks >= 5 && ticks < 1000);
  wasm_trap_delete(trap);
  trap = NULL;

  /* A deadline callback that extends the deadline, then fails. */
  int limit = 20;
  wasmtime_store_epoch_deadline_callback(store, on_deadline, &limit, finalize_callback);
  wasmtime_context_set_epoch_deadline(ctx, 1);
  ticks = 0;
  arg.of.i32 = 10;
  expect_ok(wasmtime_func_call(ctx, &run, &arg, 1, NULL, 0, &trap), "run with callback");
  CHECK(trap == NULL && ticks == 10 && callbacks >= 9 && callbacks <= 11);
  arg.of.i32 = 1000;
  wasmtime_error_t *err = wasmtime_func_call(ctx, &run, &arg, 1, NULL, 0, &trap);
  CHECK(trap == NULL);
  CHECK(error_contains(err, "too many epochs"));
  CHECK(callbacks == limit + 1);
  wasmtime_store_delete(store);
  CHECK(callback_finalized == 1);

  /* Limits: instances. */
  store = wasmtime_store_new(engine, NULL, NULL);
  ctx = wasmtime_store_context(store);
  wasmtime_store_limiter(store, -1, -1, 1, -1, -1);
  wasmtime_module_t *empty = compile_wat(engine, "(module)");
  expect_ok(wasmtime_instance_new(ctx, empty, NULL, 0, &inst, &trap), "first instance");
  CHECK(error_contains(wasmtime_instance_new(ctx, empty, NULL, 0, &inst, &trap),
                       "resource limit exceeded"));
  /* Limits: host memories and their growth. */
  wasmtime_store_limiter(store, 3 * 65536, -1, -1, -1, 1);
  wasm_memorytype_t *mty = wasmtime_memorytype_new(1, false, 0, false, false);
  wasmtime_memory_t mem;
  expect_ok(wasmtime_memory_new(ctx, mty, &mem), "memory within limits");
  uint64_t prev;
  expect_ok(wasmtime_memory_grow(ctx, &mem, 2, &prev), "grow within limits");
  CHECK(prev == 1);
  CHECK(error_contains(wasmtime_memory_grow(ctx, &mem, 1, &prev), "resource limit exceeded"));
  CHECK(error_contains(wasmtime_memory_new(ctx, mty, &mem), "resource limit exceeded"));
  wasm_memorytype_delete(mty);
  /* The limits bound wasm code too: growth beyond them is -1, and a module whose memory
   * exceeds them does not instantiate. */
  wasmtime_store_limiter(store, 2 * 65536, 4, -1, -1, -1);
  wasmtime_context_set_epoch_deadline(ctx, 1u << 30); /* an epoch engine: not to interrupt */
  wasmtime_module_t *grower = compile_wat(
      engine, "(module (memory 1) (table 1 funcref)"
              "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))"
              "  (func (export \"tgrow\") (param i32) (result i32)"
              "    (table.grow (ref.null func) (local.get 0))))");
  expect_ok(wasmtime_instance_new(ctx, grower, NULL, 0, &inst, &trap), "limited instance");
  wasmtime_func_t grow = get_func(ctx, &inst, "grow"), tgrow = get_func(ctx, &inst, "tgrow");
  int32_t expected[][3] = {{0, 1, 1}, {0, 1, -1}, {1, 3, 1}, {1, 1, -1}};
  for (int i = 0; i < 4; i++) {
    wasmtime_val_t arg = {.kind = WASMTIME_I32, .of.i32 = expected[i][1]}, res;
    expect_ok(wasmtime_func_call(ctx, expected[i][0] ? &tgrow : &grow, &arg, 1, &res, 1, &trap),
              "grow");
    CHECK(trap == NULL && res.of.i32 == expected[i][2]);
  }
  wasmtime_module_t *big = compile_wat(engine, "(module (memory 3))");
  CHECK(error_contains(wasmtime_instance_new(ctx, big, NULL, 0, &inst, &trap), "memory"));
  wasmtime_module_delete(big);
  wasmtime_module_delete(grower);
  wasmtime_module_delete(empty);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);

  DONE("store");
  return 0;
}
