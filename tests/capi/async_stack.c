/* wasmtime_config_host_stack_creator_set: async calls run on stacks the embedder allocates. */
#include <stdint.h>
#include "check.h"

#define STACK_SIZE (256 * 1024)

/* The embedder's allocator: counts requests and stacks; can be told to fail or to hand out
 * stacks that are too small. */
typedef struct {
  int id;
  int requests;
  size_t last_size;
  bool fail;
  bool too_small;
} creator_t;

typedef struct {
  unsigned char *base;
  uint8_t *top;
  size_t len;
} stack_mem_t;

static int stacks_made, stacks_freed;
static int creators_finalized[4];
/* The stack most recently handed out (the one async code must be running on). */
static uint8_t *current_top;
static size_t current_len;

static uint8_t *stack_get(void *env, size_t *len) {
  stack_mem_t *s = (stack_mem_t *)env;
  *len = s->len;
  return s->top;
}

static void stack_free(void *env) {
  stack_mem_t *s = (stack_mem_t *)env;
  free(s->base);
  free(s);
  stacks_freed++;
}

static wasmtime_error_t *stack_new(void *env, size_t size, wasmtime_stack_memory_t *ret) {
  creator_t *c = (creator_t *)env;
  c->requests++;
  c->last_size = size;
  if (c->fail) {
    return wasmtime_error_new("no stacks today");
  }
  stack_mem_t *s = (stack_mem_t *)malloc(sizeof *s);
  s->base = (unsigned char *)malloc(size + 32);
  CHECK(s->base != NULL);
  /* The top, 16-byte aligned, with `size` usable bytes below it. */
  s->top = (uint8_t *)(((uintptr_t)(s->base + size + 32)) & ~(uintptr_t)15);
  s->len = c->too_small ? size / 2 : size;
  ret->env = s;
  ret->get_stack_memory = stack_get;
  ret->finalizer = stack_free;
  stacks_made++;
  current_top = s->top;
  current_len = s->len;
  return NULL;
}

static void creator_finalize(void *env) { creators_finalized[((creator_t *)env)->id]++; }

/* Whether this frame is on the stack the creator made last. */
static int on_custom_stack(void) {
  volatile char probe = 0;
  uintptr_t at = (uintptr_t)&probe;
  return at < (uintptr_t)current_top && at >= (uintptr_t)current_top - current_len;
}

static int on_stack_checks;

static bool cont_poll(void *env) {
  int *remaining = (int *)env;
  CHECK(on_custom_stack()); /* continuations are polled on the call's stack too */
  on_stack_checks++;
  return (*remaining)-- == 0;
}

static void probe_async(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                        size_t nargs, wasmtime_val_t *results, size_t nresults,
                        wasm_trap_t **trap_ret, wasmtime_async_continuation_t *cont) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)nresults; (void)trap_ret;
  results[0].kind = WASMTIME_I32;
  results[0].of.i32 = on_custom_stack();
  on_stack_checks++;
  static int remaining;
  remaining = 2;
  cont->callback = cont_poll;
  cont->env = &remaining;
  cont->finalizer = NULL;
}

static wasm_trap_t *probe_sync(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                               size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env; (void)caller; (void)args; (void)nargs; (void)nresults;
  results[0].kind = WASMTIME_I32;
  results[0].of.i32 = on_custom_stack();
  on_stack_checks++;
  return NULL;
}

static const char *WAT =
    "(module\n"
    "  (import \"host\" \"probe_async\" (func $pa (result i32)))\n"
    "  (import \"host\" \"probe_sync\" (func $ps (result i32)))\n"
    "  (global $started (mut i32) (i32.const 0))\n"
    "  (func $start (global.set $started (call $ps)))\n"
    "  (start $start)\n"
    "  (func (export \"started\") (result i32) (global.get $started))\n"
    "  (func (export \"probe\") (result i32) (i32.and (call $pa) (call $ps)))\n"
    "  (func (export \"probe_sync\") (result i32) (call $ps)))\n";

static wasm_config_t *config_with(creator_t *creator) {
  wasm_config_t *config = wasm_config_new();
  wasmtime_config_async_support_set(config, true);
  wasmtime_config_max_wasm_stack_set(config, 64 * 1024);
  wasmtime_config_async_stack_size_set(config, STACK_SIZE);
  wasmtime_stack_creator_t c = {creator, stack_new, creator_finalize};
  wasmtime_config_host_stack_creator_set(config, &c);
  return config;
}

static wasmtime_linker_t *make_linker(wasm_engine_t *engine) {
  wasmtime_linker_t *linker = wasmtime_linker_new(engine);
  wasm_functype_t *v_i = wasm_functype_new_0_1(wasm_valtype_new_i32());
  expect_ok(wasmtime_linker_define_async_func(linker, "host", 4, "probe_async", 11, v_i,
                                              probe_async, NULL, NULL),
            "define probe_async");
  expect_ok(wasmtime_linker_define_func(linker, "host", 4, "probe_sync", 10, v_i, probe_sync, NULL,
                                        NULL),
            "define probe_sync");
  wasm_functype_delete(v_i);
  return linker;
}

/* Runs a future to completion; returns the polls. */
static int drive(wasmtime_call_future_t *future) {
  int polls = 1;
  while (!wasmtime_call_future_poll(future)) {
    polls++;
  }
  wasmtime_call_future_delete(future);
  return polls;
}

int main(void) {
  creator_t first = {0, 0, 0, false, false};
  creator_t used = {1, 0, 0, false, false};

  /* Replacing a creator releases the one replaced; the struct's values are copied. */
  wasm_config_t *config = config_with(&first);
  wasmtime_stack_creator_t c = {&used, stack_new, creator_finalize};
  wasmtime_config_host_stack_creator_set(config, &c);
  CHECK(creators_finalized[0] == 1);
  memset(&c, 0, sizeof c);
  wasm_engine_t *engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  CHECK(creators_finalized[1] == 0);

  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_linker_t *linker = make_linker(engine);
  wasmtime_module_t *module = compile_wat(engine, WAT);

  /* Instantiation runs the start function on a stack of the creator's, of the configured
   * size, freed as soon as it is done. */
  wasmtime_instance_t inst;
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *err = NULL;
  CHECK(drive(wasmtime_linker_instantiate_async(linker, ctx, module, &inst, &trap, &err)) == 1);
  CHECK(trap == NULL && err == NULL);
  CHECK(used.requests == 1 && used.last_size == STACK_SIZE);
  CHECK(stacks_made == 1 && stacks_freed == 1);
  wasmtime_extern_t item;
  CHECK(wasmtime_instance_export_get(ctx, &inst, "started", 7, &item));
  wasmtime_val_t result;
  CHECK(drive(wasmtime_func_call_async(ctx, &item.of.func, NULL, 0, &result, 1, &trap, &err)) == 1);
  CHECK(trap == NULL && err == NULL && result.of.i32 == 1);
  CHECK(stacks_made == 2 && stacks_freed == 2);

  /* Each call gets a stack; host functions and continuations run on it. */
  CHECK(wasmtime_instance_export_get(ctx, &inst, "probe", 5, &item));
  for (int i = 0; i < 3; i++) {
    int checks = on_stack_checks;
    result.of.i32 = -1;
    CHECK(drive(wasmtime_func_call_async(ctx, &item.of.func, NULL, 0, &result, 1, &trap, &err)) ==
          3);
    CHECK(trap == NULL && err == NULL && result.of.i32 == 1);
    CHECK(on_stack_checks == checks + 5); /* the callback, 3 continuation polls, the sync one */
    CHECK(stacks_made == 3 + i && stacks_freed == 3 + i);
  }
  /* Not when the host calls the function outside wasm's stack... */
  CHECK(!on_custom_stack());

  /* A call deleted mid-flight releases its stack. */
  wasmtime_call_future_t *future =
      wasmtime_func_call_async(ctx, &item.of.func, NULL, 0, &result, 1, &trap, &err);
  CHECK(!wasmtime_call_future_poll(future));
  CHECK(stacks_made == stacks_freed + 1);
  wasmtime_call_future_delete(future);
  CHECK(stacks_made == stacks_freed);
  CHECK(trap == NULL && err == NULL);

  /* The creator's finalizer runs once, when nothing uses the engine any more. */
  wasmtime_module_delete(module);
  wasmtime_linker_delete(linker);
  wasm_engine_delete(engine);
  CHECK(creators_finalized[1] == 0); /* the store still holds the engine */
  wasmtime_store_delete(store);
  CHECK(creators_finalized[1] == 1);

  /* A creator that fails: the call's error says why. */
  creator_t failing = {2, 0, 0, true, false};
  engine = wasm_engine_new_with_config(config_with(&failing));
  store = wasmtime_store_new(engine, NULL, NULL);
  ctx = wasmtime_store_context(store);
  linker = make_linker(engine);
  module = compile_wat(engine, WAT);
  CHECK(drive(wasmtime_linker_instantiate_async(linker, ctx, module, &inst, &trap, &err)) == 1);
  CHECK(trap == NULL && error_contains(err, "no stacks today"));
  err = NULL;
  failing.fail = false;
  failing.too_small = true;
  int made = stacks_made;
  CHECK(drive(wasmtime_linker_instantiate_async(linker, ctx, module, &inst, &trap, &err)) == 1);
  CHECK(trap == NULL && error_contains(err, "asked for")); /* too small: refused, and freed */
  err = NULL;
  CHECK(stacks_made == made + 1 && stacks_freed == stacks_made);
  /* Once it works again, so does instantiation. */
  failing.too_small = false;
  CHECK(drive(wasmtime_linker_instantiate_async(linker, ctx, module, &inst, &trap, &err)) == 1);
  CHECK(trap == NULL && err == NULL);
  CHECK(failing.requests == 3 && stacks_freed == stacks_made);
  wasmtime_module_delete(module);
  wasmtime_linker_delete(linker);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  CHECK(creators_finalized[2] == 1);

  /* A configuration deleted without making an engine releases its creator. */
  creator_t unused = {3, 0, 0, false, false};
  wasm_config_delete(config_with(&unused));
  CHECK(creators_finalized[3] == 1 && unused.requests == 0);

  CHECK(creators_finalized[0] == 1 && creators_finalized[1] == 1);
  DONE("async_stack");
  return 0;
}
