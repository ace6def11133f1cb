/* wasmtime/async.h: async calls, yields on fuel and epochs, async host functions and their
 * continuations, traps, cancellation, and async instantiation. */
#include "check.h"

/* ---- Helpers ---------------------------------------------------------------------------- */

/* Polls a future until it completes and deletes it; returns how many polls it took. */
static int drive(wasmtime_call_future_t *future) {
  int polls = 1;
  while (!wasmtime_call_future_poll(future)) {
    polls++;
    CHECK(polls < 1000000);
  }
  CHECK(wasmtime_call_future_poll(future)); /* polling a completed future is harmless */
  wasmtime_call_future_delete(future);
  return polls;
}

/* Calls `name` asynchronously to completion; returns the polls. `*trap`/`*err` are set to
 * NULL first and hold the outcome after. */
static int call_async(wasmtime_context_t *ctx, const wasmtime_instance_t *inst, const char *name,
                      const wasmtime_val_t *args, size_t nargs, wasmtime_val_t *results,
                      size_t nresults, wasm_trap_t **trap, wasmtime_error_t **err) {
  wasmtime_func_t f = get_func(ctx, inst, name);
  *trap = NULL;
  *err = NULL;
  return drive(wasmtime_func_call_async(ctx, &f, args, nargs, results, nresults, trap, err));
}

/* Calls a function that must succeed; returns the polls. */
static int call_ok(wasmtime_context_t *ctx, const wasmtime_instance_t *inst, const char *name,
                   const wasmtime_val_t *args, size_t nargs, wasmtime_val_t *results,
                   size_t nresults) {
  wasm_trap_t *trap;
  wasmtime_error_t *err;
  int polls = call_async(ctx, inst, name, args, nargs, results, nresults, &trap, &err);
  expect_ok(err, name);
  if (trap != NULL) {
    trap_contains(trap, "<no trap expected>");
    exit(1);
  }
  return polls;
}

static wasmtime_val_t i32v(int32_t v) {
  wasmtime_val_t val;
  val.kind = WASMTIME_I32;
  val.of.i32 = v;
  return val;
}

/* Instantiates with the linker asynchronously; returns the polls. */
static int instantiate(wasmtime_linker_t *linker, wasmtime_context_t *ctx,
                       wasmtime_module_t *module, wasmtime_instance_t *inst) {
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *err = NULL;
  int polls = drive(wasmtime_linker_instantiate_async(linker, ctx, module, inst, &trap, &err));
  expect_ok(err, "instantiate_async");
  CHECK(trap == NULL);
  return polls;
}

static wasm_engine_t *async_engine(bool fuel, bool epochs) {
  wasm_config_t *config = wasm_config_new();
  wasmtime_config_async_support_set(config, true);
  wasmtime_config_async_stack_size_set(config, 1 << 20);
  wasmtime_config_consume_fuel_set(config, fuel);
  wasmtime_config_epoch_interruption_set(config, epochs);
  wasm_engine_t *engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  return engine;
}

/* ---- Async host functions ---------------------------------------------------------------- */

static int defs_finalized;
static void def_finalizer(void *env) { defs_finalized += *(int *)env; }

static int conts_created, conts_finalized, cont_polls;

/* A continuation that is pending `remaining` times, then writes `value` to `*result` and, if
 * `trap_ret` is set, a trap. */
typedef struct {
  int remaining;
  int32_t value;
  wasmtime_val_t *result;
  wasm_trap_t **trap_ret;
} sleeper_t;

static bool sleeper_poll(void *env) {
  sleeper_t *s = (sleeper_t *)env;
  cont_polls++;
  if (s->remaining > 0) {
    s->remaining--;
    return false;
  }
  if (s->result != NULL) {
    *s->result = i32v(s->value);
  }
  if (s->trap_ret != NULL) {
    *s->trap_ret = wasmtime_trap_new("late failure", 12);
  }
  return true;
}

static void sleeper_finalize(void *env) {
  conts_finalized++;
  free(env);
}

static void start_sleeper(wasmtime_async_continuation_t *cont, int remaining, int32_t value,
                          wasmtime_val_t *result, wasm_trap_t **trap_ret) {
  sleeper_t *s = (sleeper_t *)malloc(sizeof *s);
  s->remaining = remaining;
  s->value = value;
  s->result = result;
  s->trap_ret = trap_ret;
  cont->callback = sleeper_poll;
  cont->env = s;
  cont->finalizer = sleeper_finalize;
  conts_created++;
}

/* sleep(n) -> n * 10, after being pending n times. The result is written by the
 * continuation when it completes. */
static void sleep_cb(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                     size_t nargs, wasmtime_val_t *results, size_t nresults, wasm_trap_t **trap_ret,
                     wasmtime_async_continuation_t *cont) {
  (void)caller; (void)trap_ret;
  CHECK(*(int *)env == 1);
  CHECK(nargs == 1 && nresults == 1 && args[0].kind == WASMTIME_I32);
  start_sleeper(cont, args[0].of.i32, args[0].of.i32 * 10, &results[0], NULL);
}

/* Traps right away, without a continuation. */
static void fail_now_cb(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                        size_t nargs, wasmtime_val_t *results, size_t nresults,
                        wasm_trap_t **trap_ret, wasmtime_async_continuation_t *cont) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)results; (void)nresults; (void)cont;
  *trap_ret = wasmtime_trap_new("immediate failure", 17);
}

/* Traps from its continuation, after two pending polls. */
static void fail_later_cb(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                          size_t nargs, wasmtime_val_t *results, size_t nresults,
                          wasm_trap_t **trap_ret, wasmtime_async_continuation_t *cont) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)results; (void)nresults;
  start_sleeper(cont, 2, 0, NULL, trap_ret);
}

/* Reads byte 0 of the caller's memory through the caller, after one pending poll. */
static void peek_cb(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                    size_t nargs, wasmtime_val_t *results, size_t nresults,
                    wasm_trap_t **trap_ret, wasmtime_async_continuation_t *cont) {
  (void)env; (void)args; (void)nargs; (void)nresults; (void)trap_ret;
  wasmtime_context_t *ctx = wasmtime_caller_context(caller);
  CHECK(*(int *)wasmtime_context_get_data(ctx) == 4321);
  wasmtime_extern_t mem;
  CHECK(wasmtime_caller_export_get(caller, "mem", 3, &mem) && mem.kind == WASMTIME_EXTERN_MEMORY);
  int32_t byte = wasmtime_memory_data(ctx, &mem.of.memory)[0];
  results[0] = i32v(byte);
  start_sleeper(cont, 1, byte + 1, &results[0], NULL);
}

/* Calls the caller's export "div" with (1, 0) synchronously (allowed on the async call's
 * stack) and, after one pending poll, passes its trap on. */
static void rethrow_cb(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                       size_t nargs, wasmtime_val_t *results, size_t nresults,
                       wasm_trap_t **trap_ret, wasmtime_async_continuation_t *cont) {
  (void)env; (void)args; (void)nargs; (void)results; (void)nresults;
  wasmtime_extern_t div;
  CHECK(wasmtime_caller_export_get(caller, "div", 3, &div) && div.kind == WASMTIME_EXTERN_FUNC);
  wasmtime_val_t div_args[2] = {i32v(1), i32v(0)}, quotient;
  wasm_trap_t *trap = NULL;
  CHECK(wasmtime_func_call(wasmtime_caller_context(caller), &div.of.func, div_args, 2, &quotient,
                           1, &trap) == NULL);
  CHECK(trap != NULL);
  *trap_ret = trap;
  start_sleeper(cont, 1, 0, NULL, NULL);
}

/* Pending forever (until cancelled). */
static void forever_cb(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                       size_t nargs, wasmtime_val_t *results, size_t nresults,
                       wasm_trap_t **trap_ret, wasmtime_async_continuation_t *cont) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)results; (void)nresults; (void)trap_ret;
  start_sleeper(cont, 1 << 30, 0, NULL, NULL);
}

static const char *MAIN_WAT =
    "(module\n"
    "  (import \"host\" \"sleep\" (func $sleep (param i32) (result i32)))\n"
    "  (import \"host\" \"fail_now\" (func $fail_now))\n"
    "  (import \"host\" \"fail_later\" (func $fail_later))\n"
    "  (import \"host\" \"peek\" (func $peek (result i32)))\n"
    "  (import \"host\" \"forever\" (func $forever))\n"
    "  (import \"host\" \"rethrow\" (func $rethrow))\n"
    "  (memory (export \"mem\") 1)\n"
    "  (global $count (mut i32) (i32.const 0))\n"
    "  (func (export \"add\") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))\n"
    "  (func (export \"sleep\") (param i32) (result i32) (call $sleep (local.get 0)))\n"
    "  (func (export \"sleep_twice\") (param i32 i32) (result i32)\n"
    "    (i32.add (call $sleep (local.get 0)) (call $sleep (local.get 1))))\n"
    "  (func (export \"fail_now\") (call $fail_now))\n"
    "  (func (export \"fail_later\") (call $fail_later))\n"
    "  (func (export \"rethrow\") (call $rethrow))\n"
    "  (func (export \"peek\") (result i32) (i32.store8 (i32.const 0) (i32.const 77)) (call $peek))\n"
    "  (func (export \"forever\") (global.set $count (i32.add (global.get $count) (i32.const 1)))\n"
    "    (call $forever))\n"
    "  (func (export \"count\") (result i32) (global.get $count))\n"
    "  (func (export \"div\") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))\n";

static wasmtime_linker_t *main_linker(wasm_engine_t *engine) {
  static int one = 1;
  wasmtime_linker_t *linker = wasmtime_linker_new(engine);
  wasm_functype_t *i_i = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_functype_t *v_v = wasm_functype_new_0_0();
  wasm_functype_t *v_i = wasm_functype_new_0_1(wasm_valtype_new_i32());
  expect_ok(wasmtime_linker_define_async_func(linker, "host", 4, "sleep", 5, i_i, sleep_cb, &one,
                                              def_finalizer),
            "define sleep");
  expect_ok(wasmtime_linker_define_async_func(linker, "host", 4, "fail_now", 8, v_v, fail_now_cb,
                                              &one, def_finalizer),
            "define fail_now");
  expect_ok(wasmtime_linker_define_async_func(linker, "host", 4, "fail_later", 10, v_v,
                                              fail_later_cb, &one, def_finalizer),
            "define fail_later");
  expect_ok(wasmtime_linker_define_async_func(linker, "host", 4, "peek", 4, v_i, peek_cb, &one,
                                              def_finalizer),
            "define peek");
  expect_ok(wasmtime_linker_define_async_func(linker, "host", 4, "forever", 7, v_v, forever_cb,
                                              &one, def_finalizer),
            "define forever");
  expect_ok(wasmtime_linker_define_async_func(linker, "host", 4, "rethrow", 7, v_v, rethrow_cb,
                                              &one, def_finalizer),
            "define rethrow");
  wasm_functype_delete(i_i);
  wasm_functype_delete(v_v);
  wasm_functype_delete(v_i);
  return linker;
}

static void test_calls_and_host_functions(void) {
  wasm_engine_t *engine = async_engine(false, false);
  int data = 4321;
  wasmtime_store_t *store = wasmtime_store_new(engine, &data, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_module_t *module = compile_wat(engine, MAIN_WAT);
  wasmtime_linker_t *linker = main_linker(engine);

  /* Sync entry points are errors on an async store. */
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  CHECK(error_contains(wasmtime_linker_instantiate(linker, ctx, module, &inst, &trap),
                       "async"));
  CHECK(trap == NULL);

  CHECK(instantiate(linker, ctx, module, &inst) == 1);
  wasmtime_func_t add = get_func(ctx, &inst, "add");
  wasmtime_val_t args[2] = {i32v(2), i32v(40)};
  wasmtime_val_t result = i32v(0);
  CHECK(error_contains(wasmtime_func_call(ctx, &add, args, 2, &result, 1, &trap), "async"));
  CHECK(trap == NULL);

  /* A plain call completes on the first poll. */
  CHECK(call_ok(ctx, &inst, "add", args, 2, &result, 1) == 1);
  CHECK(result.kind == WASMTIME_I32 && result.of.i32 == 42);

  /* An async host function whose continuation is pending N times: N + 1 polls, and the
   * continuation is polled on each. */
  for (int n = 0; n <= 5; n++) {
    int before = cont_polls;
    wasmtime_val_t arg = i32v(n);
    CHECK(call_ok(ctx, &inst, "sleep", &arg, 1, &result, 1) == n + 1);
    CHECK(result.of.i32 == n * 10);
    CHECK(cont_polls - before == n + 1);
    CHECK(conts_finalized == conts_created);
  }
  /* Two async host calls in one wasm call: the pending polls add up. */
  wasmtime_val_t two[2] = {i32v(3), i32v(4)};
  CHECK(call_ok(ctx, &inst, "sleep_twice", two, 2, &result, 1) == 3 + 4 + 1);
  CHECK(result.of.i32 == 70);
  CHECK(conts_finalized == conts_created);

  /* The callback can use its caller; results written at call time and by the continuation. */
  CHECK(call_ok(ctx, &inst, "peek", NULL, 0, &result, 1) == 2);
  CHECK(result.of.i32 == 78);

  /* A trap the callback makes from a message reaches the caller as the call's failure: like
   * the sync API (and Wasmtime), through error_ret, since it has no trap code. */
  wasmtime_error_t *err;
  CHECK(call_async(ctx, &inst, "fail_now", NULL, 0, NULL, 0, &trap, &err) == 1);
  CHECK(trap == NULL && error_contains(err, "immediate failure"));

  /* ... also when the continuation sets it as it completes. */
  int finalized_before = conts_finalized;
  CHECK(call_async(ctx, &inst, "fail_later", NULL, 0, NULL, 0, &trap, &err) == 3);
  CHECK(trap == NULL && error_contains(err, "late failure"));
  CHECK(conts_finalized == finalized_before + 1);

  /* A wasm trap the callback passes on comes back through trap_ret, code and all. */
  CHECK(call_async(ctx, &inst, "rethrow", NULL, 0, NULL, 0, &trap, &err) == 2);
  CHECK(err == NULL && trap != NULL);
  uint8_t code;
  CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO);
  CHECK(trap_contains(trap, "divide by zero"));
  wasm_trap_delete(trap);

  /* A wasm trap. */
  wasmtime_val_t div_args[2] = {i32v(1), i32v(0)};
  CHECK(call_async(ctx, &inst, "div", div_args, 2, &result, 1, &trap, &err) == 1);
  CHECK(err == NULL && trap != NULL);
  CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO);
  wasm_trap_delete(trap);

  /* Bad arguments: the error comes with the first poll. */
  CHECK(call_async(ctx, &inst, "add", args, 1, &result, 1, &trap, &err) == 1);
  CHECK(trap == NULL && error_contains(err, "argument"));
  wasmtime_store_t *other = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_func_t foreign = get_func(ctx, &inst, "add");
  trap = NULL;
  err = NULL;
  CHECK(drive(wasmtime_func_call_async(wasmtime_store_context(other), &foreign, args, 2, &result,
                                       1, &trap, &err)) == 1);
  CHECK(trap == NULL && error_contains(err, "wrong store"));
  wasmtime_store_delete(other);

  /* A future deleted mid-flight: the continuation's finalizer runs, the store is usable. */
  for (int round = 0; round < 3; round++) {
    wasmtime_func_t forever = get_func(ctx, &inst, "forever");
    trap = NULL;
    err = NULL;
    int created = conts_created;
    finalized_before = conts_finalized;
    wasmtime_call_future_t *future =
        wasmtime_func_call_async(ctx, &forever, NULL, 0, NULL, 0, &trap, &err);
    for (int i = 0; i < 5; i++) {
      CHECK(!wasmtime_call_future_poll(future));
    }
    CHECK(conts_created == created + 1 && conts_finalized == finalized_before);
    wasmtime_call_future_delete(future);
    CHECK(conts_finalized == finalized_before + 1);
    CHECK(trap == NULL && err == NULL); /* a cancelled call reports nothing */
    CHECK(call_ok(ctx, &inst, "count", NULL, 0, &result, 1) == 1);
    CHECK(result.of.i32 == round + 1);
    wasmtime_val_t arg = i32v(2);
    CHECK(call_ok(ctx, &inst, "sleep", &arg, 1, &result, 1) == 3);
    CHECK(result.of.i32 == 20);
  }
  /* Deleted before its first poll, and deleted after completing without being polled again. */
  wasmtime_call_future_delete(wasmtime_func_call_async(ctx, &add, args, 2, &result, 1, &trap,
                                                       &err));
  wasmtime_call_future_delete(NULL);

  /* Invalid UTF-8 names: an error, and the finalizer runs at once. */
  int defs_before = defs_finalized;
  static int ten = 10;
  wasm_functype_t *v_v = wasm_functype_new_0_0();
  CHECK(error_contains(wasmtime_linker_define_async_func(linker, "\xff", 1, "x", 1, v_v,
                                                         fail_now_cb, &ten, def_finalizer),
                       "utf-8"));
  CHECK(defs_finalized == defs_before + 10);
  CHECK(error_contains(wasmtime_linker_define_async_func(linker, "m", 1, "\xc3", 1, v_v,
                                                         fail_now_cb, &ten, def_finalizer),
                       "utf-8"));
  CHECK(defs_finalized == defs_before + 20);
  /* A duplicate definition: an error, and the finalizer runs at once too. */
  CHECK(error_contains(wasmtime_linker_define_async_func(linker, "host", 4, "fail_now", 8, v_v,
                                                         fail_now_cb, &ten, def_finalizer),
                       "fail_now"));
  CHECK(defs_finalized == defs_before + 30);
  wasm_functype_delete(v_v);

  /* The definitions' finalizers run once, when the linker and the store are gone. */
  wasmtime_linker_delete(linker);
  CHECK(defs_finalized == defs_before + 30);
  wasmtime_store_delete(store);
  CHECK(defs_finalized == defs_before + 36);
  CHECK(conts_finalized == conts_created);
  wasmtime_module_delete(module);
  wasm_engine_delete(engine);
}

/* ---- Fuel -------------------------------------------------------------------------------- */

static const char *SPIN_WAT =
    "(module\n"
    "  (func (export \"spin\") (param i32) (result i32) (local i32)\n"
    "    (block $done (loop $l\n"
    "      (br_if $done (i32.ge_u (local.get 1) (local.get 0)))\n"
    "      (local.set 1 (i32.add (local.get 1) (i32.const 1)))\n"
    "      (br $l)))\n"
    "    (local.get 1)))\n";

/* Runs spin(n) with `fuel` and yields every `interval`; returns the polls, `*used` the fuel
 * consumed. */
static int fuel_run(wasm_engine_t *engine, wasmtime_module_t *module, int32_t n, uint64_t fuel,
                    uint64_t interval, uint64_t *used) {
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  expect_ok(wasmtime_context_set_fuel(ctx, fuel), "set_fuel");
  expect_ok(wasmtime_context_fuel_async_yield_interval(ctx, interval), "yield interval");
  wasmtime_linker_t *linker = wasmtime_linker_new(engine);
  wasmtime_instance_t inst;
  instantiate(linker, ctx, module, &inst);
  uint64_t before;
  expect_ok(wasmtime_context_get_fuel(ctx, &before), "get_fuel");
  wasmtime_val_t arg = i32v(n), result;
  int polls = call_ok(ctx, &inst, "spin", &arg, 1, &result, 1);
  CHECK(result.of.i32 == n);
  uint64_t after;
  expect_ok(wasmtime_context_get_fuel(ctx, &after), "get_fuel");
  *used = before - after;
  wasmtime_linker_delete(linker);
  wasmtime_store_delete(store);
  return polls;
}

static void test_fuel(void) {
  wasm_engine_t *engine = async_engine(true, false);
  wasmtime_module_t *module = compile_wat(engine, SPIN_WAT);

  /* Yielding every 1000 units: the number of polls follows from the fuel used, and is the
   * same on every run. */
  uint64_t used, used2, used_no_yield;
  int polls = fuel_run(engine, module, 10000, 10000000, 1000, &used);
  CHECK(polls > 10);
  CHECK((uint64_t)polls >= used / 1000 && (uint64_t)polls <= used / 1000 + 1);
  CHECK(fuel_run(engine, module, 10000, 10000000, 1000, &used2) == polls);
  CHECK(used2 == used);
  /* A larger interval yields less often; 0 turns yielding off. */
  int polls_large = fuel_run(engine, module, 10000, 10000000, 10000, &used2);
  CHECK(polls_large < polls && polls_large > 1);
  CHECK(fuel_run(engine, module, 10000, 10000000, 0, &used_no_yield) == 1);
  CHECK(used_no_yield == used);

  /* Running out of fuel while yielding: an out-of-fuel trap through trap_ret. */
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  expect_ok(wasmtime_context_set_fuel(ctx, 100000), "set_fuel");
  expect_ok(wasmtime_context_fuel_async_yield_interval(ctx, 1000), "yield interval");
  wasmtime_linker_t *linker = wasmtime_linker_new(engine);
  wasmtime_instance_t inst;
  instantiate(linker, ctx, module, &inst);
  wasmtime_val_t arg = i32v(1000000), result;
  wasm_trap_t *trap;
  wasmtime_error_t *err;
  polls = call_async(ctx, &inst, "spin", &arg, 1, &result, 1, &trap, &err);
  CHECK(polls >= 99 && polls <= 101);
  CHECK(err == NULL && trap != NULL);
  uint8_t code;
  CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_OUT_OF_FUEL);
  wasm_trap_delete(trap);

  /* Deleting a call that is yielding on fuel leaves the store usable. */
  expect_ok(wasmtime_context_set_fuel(ctx, 1000000), "set_fuel");
  wasmtime_func_t spin = get_func(ctx, &inst, "spin");
  trap = NULL;
  err = NULL;
  wasmtime_call_future_t *future =
      wasmtime_func_call_async(ctx, &spin, &arg, 1, &result, 1, &trap, &err);
  for (int i = 0; i < 3; i++) {
    CHECK(!wasmtime_call_future_poll(future));
  }
  wasmtime_call_future_delete(future);
  CHECK(trap == NULL && err == NULL);
  uint64_t left;
  expect_ok(wasmtime_context_get_fuel(ctx, &left), "get_fuel");
  CHECK(left <= 1000000 - 3000 && left > 1000000 - 5000); /* three intervals' worth or so */
  expect_ok(wasmtime_context_set_fuel(ctx, 1000000), "set_fuel");
  arg = i32v(100);
  CHECK(call_ok(ctx, &inst, "spin", &arg, 1, &result, 1) == 1);
  CHECK(result.of.i32 == 100);
  wasmtime_linker_delete(linker);
  wasmtime_store_delete(store);
  wasmtime_module_delete(module);
  wasm_engine_delete(engine);

  /* Without fuel there is no interval to set. */
  engine = async_engine(false, false);
  store = wasmtime_store_new(engine, NULL, NULL);
  CHECK(error_contains(wasmtime_context_fuel_async_yield_interval(wasmtime_store_context(store), 10),
                       "fuel is not configured"));
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
}

/* ---- Epochs ------------------------------------------------------------------------------ */

static int ticks;
static bool ticking;

/* Counts calls; when `ticking`, advances the engine's epoch (a timer, deterministically). */
static wasm_trap_t *tick(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                         size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)caller; (void)args; (void)nargs; (void)results; (void)nresults;
  ticks++;
  if (ticking) {
    wasmtime_engine_increment_epoch((wasm_engine_t *)env);
  }
  return NULL;
}

static const char *TICK_WAT =
    "(module\n"
    "  (import \"host\" \"tick\" (func $tick))\n"
    "  (func (export \"run\") (param i32) (result i32) (local i32)\n"
    "    (block $done (loop $l\n"
    "      (br_if $done (i32.ge_u (local.get 1) (local.get 0)))\n"
    "      (call $tick)\n"
    "      (local.set 1 (i32.add (local.get 1) (i32.const 1)))\n"
    "      (br $l)))\n"
    "    (local.get 1)))\n";

static void test_epochs(void) {
  wasm_engine_t *engine = async_engine(false, true);
  wasmtime_module_t *module = compile_wat(engine, TICK_WAT);
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_linker_t *linker = wasmtime_linker_new(engine);
  wasm_functype_t *v_v = wasm_functype_new_0_0();
  expect_ok(wasmtime_linker_define_func(linker, "host", 4, "tick", 4, v_v, tick, engine, NULL),
            "define tick");
  wasm_functype_delete(v_v);
  wasmtime_context_set_epoch_deadline(ctx, 1);
  wasmtime_instance_t inst;
  instantiate(linker, ctx, module, &inst);
  expect_ok(wasmtime_context_epoch_deadline_async_yield_and_update(ctx, 1), "yield_and_update");
  wasmtime_func_t run = get_func(ctx, &inst, "run");
  wasmtime_val_t arg = i32v(5), result;
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *err = NULL;

  /* The deadline is not reached: no yield. */
  CHECK(call_ok(ctx, &inst, "run", &arg, 1, &result, 1) == 1);
  CHECK(ticks == 5 && result.of.i32 == 5);

  /* Reached before the call: it yields before doing anything; after the epoch moves on
   * between polls it resumes with a new deadline and completes. */
  ticks = 0;
  wasmtime_engine_increment_epoch(engine);
  wasmtime_call_future_t *future =
      wasmtime_func_call_async(ctx, &run, &arg, 1, &result, 1, &trap, &err);
  CHECK(!wasmtime_call_future_poll(future));
  CHECK(ticks == 0);
  wasmtime_engine_increment_epoch(engine);
  CHECK(wasmtime_call_future_poll(future));
  wasmtime_call_future_delete(future);
  CHECK(trap == NULL && err == NULL && ticks == 5 && result.of.i32 == 5);

  /* Each epoch passed during the call makes it yield once, at the next loop header. */
  ticks = 0;
  ticking = true;
  wasmtime_context_set_epoch_deadline(ctx, 1);
  int polls = call_ok(ctx, &inst, "run", &arg, 1, &result, 1);
  CHECK(polls == 6);
  CHECK(ticks == 5 && result.of.i32 == 5);

  /* Cancelling a call that is yielding on epochs. */
  ticks = 0;
  wasmtime_context_set_epoch_deadline(ctx, 1);
  arg = i32v(100);
  future = wasmtime_func_call_async(ctx, &run, &arg, 1, &result, 1, &trap, &err);
  CHECK(!wasmtime_call_future_poll(future));
  CHECK(!wasmtime_call_future_poll(future));
  CHECK(ticks == 2);
  wasmtime_call_future_delete(future);
  CHECK(trap == NULL && err == NULL);
  ticking = false;
  arg = i32v(3);
  wasmtime_context_set_epoch_deadline(ctx, 1); /* the cancelled call had reached it */
  CHECK(call_ok(ctx, &inst, "run", &arg, 1, &result, 1) == 1);
  CHECK(result.of.i32 == 3);

  wasmtime_linker_delete(linker);
  wasmtime_store_delete(store);
  wasmtime_module_delete(module);
  wasm_engine_delete(engine);
}

/* ---- Async instantiation ------------------------------------------------------------------ */

static const char *START_WAT =
    "(module\n"
    "  (import \"host\" \"sleep\" (func $sleep (param i32) (result i32)))\n"
    "  (global $g (mut i32) (i32.const 0))\n"
    "  (func $start (global.set $g (call $sleep (i32.const 3))))\n"
    "  (start $start)\n"
    "  (func (export \"get\") (result i32) (global.get $g)))\n";

static const char *START_TRAP_WAT =
    "(module\n"
    "  (import \"host\" \"sleep\" (func $sleep (param i32) (result i32)))\n"
    "  (func $start (drop (call $sleep (i32.const 1))) unreachable)\n"
    "  (start $start))\n";

static void test_instantiation(void) {
  wasm_engine_t *engine = async_engine(false, false);
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_linker_t *linker = main_linker(engine);
  wasmtime_module_t *module = compile_wat(engine, START_WAT);

  /* The start function's async host call suspends the instantiation. */
  wasmtime_instance_t inst;
  CHECK(instantiate(linker, ctx, module, &inst) == 4);
  wasmtime_val_t result;
  CHECK(call_ok(ctx, &inst, "get", NULL, 0, &result, 1) == 1);
  CHECK(result.of.i32 == 30);

  /* The same through an instance-pre. */
  wasmtime_instance_pre_t *pre = NULL;
  expect_ok(wasmtime_linker_instantiate_pre(linker, module, &pre), "instantiate_pre");
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *err = NULL;
  wasmtime_instance_t inst2;
  CHECK(error_contains(wasmtime_instance_pre_instantiate(pre, ctx, &inst2, &trap), "async"));
  int polls = drive(wasmtime_instance_pre_instantiate_async(pre, ctx, &inst2, &trap, &err));
  CHECK(polls == 4 && trap == NULL && err == NULL);
  CHECK(call_ok(ctx, &inst2, "get", NULL, 0, &result, 1) == 1);
  CHECK(result.of.i32 == 30);
  CHECK(inst2.index != inst.index);

  /* Cancelled mid-instantiation, then instantiated again. */
  wasmtime_call_future_t *future =
      wasmtime_instance_pre_instantiate_async(pre, ctx, &inst2, &trap, &err);
  CHECK(!wasmtime_call_future_poll(future));
  wasmtime_call_future_delete(future);
  CHECK(trap == NULL && err == NULL);
  CHECK(drive(wasmtime_instance_pre_instantiate_async(pre, ctx, &inst2, &trap, &err)) == 4);
  CHECK(trap == NULL && err == NULL);

  /* A start function that traps: the trap comes back through trap_ret. */
  wasmtime_module_t *trapping = compile_wat(engine, START_TRAP_WAT);
  polls = drive(wasmtime_linker_instantiate_async(linker, ctx, trapping, &inst2, &trap, &err));
  CHECK(polls == 2 && err == NULL && trap != NULL);
  uint8_t code;
  CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED);
  wasm_trap_delete(trap);
  trap = NULL;

  /* Link errors go to error_ret; so does the store's instance limit. */
  wasmtime_linker_t *empty = wasmtime_linker_new(engine);
  polls = drive(wasmtime_linker_instantiate_async(empty, ctx, module, &inst2, &trap, &err));
  CHECK(polls == 1 && trap == NULL && error_contains(err, "sleep"));
  err = NULL;
  wasmtime_store_limiter(store, -1, -1, 3, -1, -1);
  polls = drive(wasmtime_instance_pre_instantiate_async(pre, ctx, &inst2, &trap, &err));
  CHECK(polls == 1 && trap == NULL && error_contains(err, "instance"));
  err = NULL;

  wasmtime_linker_delete(empty);
  wasmtime_module_delete(trapping);
  wasmtime_instance_pre_delete(pre);
  wasmtime_module_delete(module);
  wasmtime_linker_delete(linker);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
}

/* ---- Engines without async support --------------------------------------------------------- */

static void test_sync_engine(void) {
  wasm_config_t *config = wasm_config_new();
  wasmtime_config_async_support_set(config, false);
  wasm_engine_t *engine = wasm_engine_new_with_config(config);
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_linker_t *linker = main_linker(engine);
  wasmtime_module_t *module = compile_wat(engine, MAIN_WAT);
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_linker_instantiate(linker, ctx, module, &inst, &trap), "instantiate");
  CHECK(trap == NULL);
  /* A sync call reaching an async host function fails instead of blocking. */
  wasmtime_func_t sleep = get_func(ctx, &inst, "sleep");
  wasmtime_val_t arg = i32v(1), result;
  wasmtime_error_t *err = wasmtime_func_call(ctx, &sleep, &arg, 1, &result, 1, &trap);
  if (trap != NULL) {
    CHECK(trap_contains(trap, "synchronous"));
    wasm_trap_delete(trap);
  } else {
    CHECK(error_contains(err, "synchronous"));
  }
  /* The async entry points work on such engines too. */
  CHECK(call_ok(ctx, &inst, "sleep", &arg, 1, &result, 1) == 2);
  CHECK(result.of.i32 == 10);
  wasmtime_module_delete(module);
  wasmtime_linker_delete(linker);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);

  /* The async stack cannot be smaller than the wasm stack. */
  config = wasm_config_new();
  wasmtime_config_async_support_set(config, true);
  wasmtime_config_max_wasm_stack_set(config, 1 << 20);
  wasmtime_config_async_stack_size_set(config, 1 << 16);
  CHECK(wasm_engine_new_with_config(config) == NULL);
}

int main(void) {
  test_calls_and_host_functions();
  test_fuel();
  test_epochs();
  test_instantiation();
  test_sync_engine();
  CHECK(conts_finalized == conts_created);
  DONE("async_calls");
  return 0;
}
