/* Shared memories (WASMTIME_FEATURE_THREADS): created, grown and inspected from C, given to
 * instances of two stores on two threads through wasmtime_linker_define, which increment
 * one counter atomically, and exported by a module as a WASMTIME_EXTERN_SHAREDMEMORY. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

#ifndef WASMTIME_FEATURE_THREADS
#error "wasmtime/conf.h must define WASMTIME_FEATURE_THREADS"
#endif

#define WORKERS 2
#define INCREMENTS 50000

static const char *COUNTER_WAT =
    "(module"
    "  (import \"env\" \"memory\" (memory 1 4 shared))"
    "  (func (export \"add\") (param $n i32)"
    "    (loop $l"
    "      (drop (i32.atomic.rmw.add (i32.const 16) (i32.const 1)))"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))";

static atomic_int failures;

struct job {
  wasm_engine_t *engine;
  wasmtime_module_t *module;
  const wasmtime_sharedmemory_t *memory;
};

/* One thread: its own store and linker, the shared memory defined as `env::memory`. */
static void *worker(void *arg) {
  struct job *job = arg;
  wasmtime_store_t *store = wasmtime_store_new(job->engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_linker_t *linker = wasmtime_linker_new(job->engine);
  wasmtime_extern_t item;
  item.kind = WASMTIME_EXTERN_SHAREDMEMORY;
  item.of.sharedmemory = wasmtime_sharedmemory_clone(job->memory);
  wasmtime_error_t *err = wasmtime_linker_define(linker, ctx, "env", 3, "memory", 6, &item);
  wasmtime_extern_delete(&item);
  wasmtime_instance_t instance;
  wasm_trap_t *trap = NULL;
  if (err == NULL) {
    err = wasmtime_linker_instantiate(linker, ctx, job->module, &instance, &trap);
  }
  if (err == NULL && trap == NULL) {
    wasmtime_extern_t add;
    if (wasmtime_instance_export_get(ctx, &instance, "add", 3, &add)) {
      wasmtime_val_t arg;
      arg.kind = WASMTIME_I32;
      arg.of.i32 = INCREMENTS;
      err = wasmtime_func_call(ctx, &add.of.func, &arg, 1, NULL, 0, &trap);
    } else {
      atomic_fetch_add(&failures, 1);
    }
  }
  if (err != NULL || trap != NULL) {
    atomic_fetch_add(&failures, 1);
  }
  if (err != NULL) {
    wasmtime_error_delete(err);
  }
  if (trap != NULL) {
    wasm_trap_delete(trap);
  }
  wasmtime_linker_delete(linker);
  wasmtime_store_delete(store);
  return NULL;
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  CHECK(engine != NULL);

  /* Types: a shared memory needs a maximum; an unshared type makes no shared memory. */
  CHECK(wasmtime_memorytype_new(1, false, 0, false, true) == NULL);
  wasm_memorytype_t *shared_ty = wasmtime_memorytype_new(1, true, 4, false, true);
  CHECK(shared_ty != NULL);
  CHECK(wasmtime_memorytype_isshared(shared_ty));
  wasm_memorytype_t *plain_ty = wasmtime_memorytype_new(1, true, 4, false, false);
  wasmtime_sharedmemory_t *memory = NULL;
  CHECK(error_contains(wasmtime_sharedmemory_new(engine, plain_ty, &memory), "shared"));
  CHECK(memory == NULL);
  wasm_memorytype_delete(plain_ty);

  expect_ok(wasmtime_sharedmemory_new(engine, shared_ty, &memory), "sharedmemory_new");
  wasm_memorytype_delete(shared_ty);
  CHECK(wasmtime_sharedmemory_size(memory) == 1);
  CHECK(wasmtime_sharedmemory_data_size(memory) == 65536);
  uint8_t *base = wasmtime_sharedmemory_data(memory);
  CHECK(base != NULL);
  wasm_memorytype_t *ty = wasmtime_sharedmemory_type(memory);
  CHECK(wasmtime_memorytype_isshared(ty));
  CHECK(wasmtime_memorytype_minimum(ty) == 1);
  uint64_t max = 0;
  CHECK(wasmtime_memorytype_maximum(ty, &max) && max == 4);
  wasm_memorytype_delete(ty);

  /* Growing never moves it; past the maximum is an error. */
  uint64_t prev = 0;
  expect_ok(wasmtime_sharedmemory_grow(memory, 1, &prev), "grow");
  CHECK(prev == 1);
  CHECK(wasmtime_sharedmemory_size(memory) == 2);
  CHECK(wasmtime_sharedmemory_data(memory) == base);
  CHECK(error_contains(wasmtime_sharedmemory_grow(memory, 3, &prev), "failed to grow"));

  /* Two threads, each with a store, increment the counter at byte 16 atomically. */
  wasmtime_module_t *module = compile_wat(engine, COUNTER_WAT);
  pthread_t threads[WORKERS];
  struct job jobs[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    jobs[i] = (struct job){engine, module, memory};
    CHECK(pthread_create(&threads[i], NULL, worker, &jobs[i]) == 0);
  }
  for (int i = 0; i < WORKERS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
  }
  CHECK(atomic_load(&failures) == 0);
  uint32_t counter = atomic_load((_Atomic uint32_t *)(base + 16));
  CHECK(counter == WORKERS * INCREMENTS);
  wasmtime_module_delete(module);

  /* A module's own shared memory is exported as a shared memory handle C owns. */
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  module = compile_wat(engine, "(module (memory (export \"m\") 2 3 shared)"
                               " (data (i32.const 5) \"\\07\"))");
  wasmtime_instance_t instance;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, module, NULL, 0, &instance, &trap), "instantiate");
  CHECK(trap == NULL);
  wasmtime_extern_t item;
  CHECK(wasmtime_instance_export_get(ctx, &instance, "m", 1, &item));
  CHECK(item.kind == WASMTIME_EXTERN_SHAREDMEMORY);
  CHECK(wasmtime_sharedmemory_size(item.of.sharedmemory) == 2);
  CHECK(wasmtime_sharedmemory_data(item.of.sharedmemory)[5] == 7);
  wasm_externtype_t *ety = wasmtime_extern_type(ctx, &item);
  CHECK(wasm_externtype_kind(ety) == WASM_EXTERN_MEMORY);
  CHECK(wasmtime_memorytype_isshared(wasm_externtype_as_memorytype(ety)));
  wasm_externtype_delete(ety);
  wasmtime_sharedmemory_t *kept = wasmtime_sharedmemory_clone(item.of.sharedmemory);
  wasmtime_extern_delete(&item);
  wasmtime_store_delete(store);
  wasmtime_module_delete(module);
  /* The memory outlives its store while a handle keeps it. */
  CHECK(wasmtime_sharedmemory_data(kept)[5] == 7);
  wasmtime_sharedmemory_delete(kept);

  wasmtime_sharedmemory_delete(memory);
  wasm_engine_delete(engine);
  DONE("sharedmemory");
  return 0;
}
