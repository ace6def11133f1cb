/* Threads: one engine and one compiled module used from several threads at once, each thread
 * with stores of its own (through wasmtime.h and through wasm.h's shared modules), and a call
 * stopped from another thread by advancing the engine's epoch. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

#define THREADS 6
#define ROUNDS 20

static atomic_int host_calls;
static atomic_int failures;

/* A thread-safe CHECK: a failure is counted and reported by the main thread. */
#define TCHECK(cond)                                                                       \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);            \
      atomic_fetch_add(&failures, 1);                                                      \
    }                                                                                      \
  } while (0)

static const char *WAT = "(module"
                         "  (import \"host\" \"bump\" (func $bump (param i32) (result i32)))"
                         "  (memory (export \"mem\") 1)"
                         "  (func (export \"run\") (param $n i32) (result i32)"
                         "    (local $i i32) (local $acc i32)"
                         "    (loop $l"
                         "      (local.set $acc (i32.add (local.get $acc) (local.get $i)))"
                         "      (local.set $i (i32.add (local.get $i) (i32.const 1)))"
                         "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))"
                         "    (i32.store (i32.const 0) (local.get $acc))"
                         "    (call $bump (local.get $acc)))"
                         "  (func (export \"noop\")))";

/* host.bump: counts calls and returns its argument plus one. */
static wasm_trap_t *bump(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                         size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)env;
  (void)caller;
  (void)nargs;
  (void)nresults;
  atomic_fetch_add(&host_calls, 1);
  results[0].kind = WASMTIME_I32;
  results[0].of.i32 = args[0].of.i32 + 1;
  return NULL;
}

struct job {
  wasm_engine_t *engine;
  wasmtime_module_t *module;
  int id;
  int32_t last;
};

/* Each thread: its own store and linker, several instances of the shared module. */
static void *wasmtime_worker(void *arg) {
  struct job *job = arg;
  int *data = malloc(sizeof(int));
  *data = job->id;
  wasmtime_store_t *store = wasmtime_store_new(job->engine, data, free);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  TCHECK(*(int *)wasmtime_context_get_data(ctx) == job->id);
  wasmtime_linker_t *linker = wasmtime_linker_new(job->engine);
  wasm_functype_t *ty = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasmtime_error_t *err =
      wasmtime_linker_define_func(linker, "host", 4, "bump", 4, ty, bump, NULL, NULL);
  TCHECK(err == NULL);
  wasm_functype_delete(ty);
  for (int round = 0; round < ROUNDS; round++) {
    wasmtime_instance_t inst;
    wasm_trap_t *trap = NULL;
    err = wasmtime_linker_instantiate(linker, ctx, job->module, &inst, &trap);
    TCHECK(err == NULL && trap == NULL);
    if (err != NULL || trap != NULL) {
      break;
    }
    wasmtime_extern_t run;
    TCHECK(wasmtime_instance_export_get(ctx, &inst, "run", 3, &run));
    wasmtime_val_t arg1 = {.kind = WASMTIME_I32, .of.i32 = 100 + job->id + round};
    wasmtime_val_t res;
    err = wasmtime_func_call(ctx, &run.of.func, &arg1, 1, &res, 1, &trap);
    TCHECK(err == NULL && trap == NULL);
    int32_t n = arg1.of.i32;
    TCHECK(res.kind == WASMTIME_I32 && res.of.i32 == n * (n - 1) / 2 + 1);
    wasmtime_extern_t mem;
    TCHECK(wasmtime_instance_export_get(ctx, &inst, "mem", 3, &mem));
    int32_t stored;
    memcpy(&stored, wasmtime_memory_data(ctx, &mem.of.memory), 4);
    TCHECK(stored == n * (n - 1) / 2);
    job->last = res.of.i32;
  }
  wasmtime_linker_delete(linker);
  wasmtime_store_delete(store);
  return NULL;
}

static int c_api_calls;
static wasm_trap_t *wasm_bump(const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  atomic_fetch_add(&host_calls, 1);
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = args->data[0].of.i32 + 1;
  return NULL;
}

struct shared_job {
  wasm_engine_t *engine;
  wasm_shared_module_t *shared;
  int id;
};

/* Each thread: wasm.h's way, a module obtained from the shared one in a store of its own. */
static void *wasm_h_worker(void *arg) {
  struct shared_job *job = arg;
  wasm_store_t *store = wasm_store_new(job->engine);
  wasm_module_t *module = wasm_module_obtain(store, job->shared);
  TCHECK(module != NULL);
  if (module == NULL) {
    wasm_store_delete(store);
    return NULL;
  }
  for (int round = 0; round < ROUNDS; round++) {
    wasm_functype_t *ty = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
    wasm_func_t *host = wasm_func_new(store, ty, wasm_bump);
    wasm_functype_delete(ty);
    wasm_extern_t *imports[] = {wasm_func_as_extern(host)};
    wasm_extern_vec_t imports_vec = WASM_ARRAY_VEC(imports);
    wasm_instance_t *inst = wasm_instance_new(store, module, &imports_vec, NULL);
    TCHECK(inst != NULL);
    wasm_func_delete(host);
    if (inst == NULL) {
      break;
    }
    wasm_extern_vec_t exports;
    wasm_instance_exports(inst, &exports);
    TCHECK(exports.size == 3);
    const wasm_func_t *run = wasm_extern_as_func(exports.data[1]);
    TCHECK(run != NULL);
    /* The export outlives the instance handle, as in wasm-c-api's threads example. */
    wasm_instance_delete(inst);
    wasm_val_t arg_val[1] = {WASM_I32_VAL(10 + job->id)};
    wasm_val_t res_val[1] = {WASM_INIT_VAL};
    wasm_val_vec_t args_vec = WASM_ARRAY_VEC(arg_val);
    wasm_val_vec_t res_vec = WASM_ARRAY_VEC(res_val);
    wasm_trap_t *trap = wasm_func_call(run, &args_vec, &res_vec);
    TCHECK(trap == NULL);
    int32_t n = 10 + job->id;
    TCHECK(res_val[0].kind == WASM_I32 && res_val[0].of.i32 == n * (n - 1) / 2 + 1);
    wasm_extern_vec_delete(&exports);
  }
  wasm_module_delete(module);
  wasm_store_delete(store);
  return NULL;
}

struct spin_job {
  wasm_engine_t *engine;
  wasmtime_module_t *module;
  wasmtime_error_t *err;
  wasm_trap_t *trap;
  atomic_int started;
};

/* host.started: tells the main thread the loop is about to run. */
static wasm_trap_t *started(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                            size_t nargs, wasmtime_val_t *results, size_t nresults) {
  (void)caller;
  (void)args;
  (void)nargs;
  (void)results;
  (void)nresults;
  atomic_store(&((struct spin_job *)env)->started, 1);
  return NULL;
}

static void *spin_worker(void *arg) {
  struct spin_job *job = arg;
  wasmtime_store_t *store = wasmtime_store_new(job->engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);
  wasmtime_context_set_epoch_deadline(ctx, 1);
  wasm_functype_t *ty = wasm_functype_new_0_0();
  wasmtime_func_t host;
  wasmtime_func_new(ctx, ty, started, job, NULL, &host);
  wasm_functype_delete(ty);
  wasmtime_extern_t import = {.kind = WASMTIME_EXTERN_FUNC, .of.func = host};
  wasmtime_instance_t inst;
  job->err = wasmtime_instance_new(ctx, job->module, &import, 1, &inst, &job->trap);
  if (job->err == NULL && job->trap == NULL) {
    wasmtime_extern_t run;
    TCHECK(wasmtime_instance_export_get(ctx, &inst, "run", 3, &run));
    job->err = wasmtime_func_call(ctx, &run.of.func, NULL, 0, NULL, 0, &job->trap);
  }
  wasmtime_store_delete(store);
  return NULL;
}

static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void test_wasmtime_threads(wasm_engine_t *engine, wasmtime_module_t *module) {
  pthread_t threads[THREADS];
  struct job jobs[THREADS];
  atomic_store(&host_calls, 0);
  for (int i = 0; i < THREADS; i++) {
    /* Half the threads use a clone of the module handle, as a program handing one to each
     * thread would. */
    jobs[i] = (struct job){.engine = engine,
                           .module = i % 2 ? wasmtime_module_clone(module) : module,
                           .id = i,
                           .last = 0};
    CHECK(pthread_create(&threads[i], NULL, wasmtime_worker, &jobs[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    int32_t n = 100 + i + ROUNDS - 1;
    CHECK(jobs[i].last == n * (n - 1) / 2 + 1);
    if (i % 2) {
      wasmtime_module_delete(jobs[i].module);
    }
  }
  CHECK(atomic_load(&failures) == 0);
  CHECK(atomic_load(&host_calls) == THREADS * ROUNDS);
  printf("wasmtime.h: %d threads x %d instances, one engine and module\n", THREADS, ROUNDS);
}

static void test_wasm_h_threads(wasm_engine_t *engine) {
  /* As in wasm-c-api's threads example: compile in a store, share, drop the store. */
  wasm_store_t *store = wasm_store_new(engine);
  wasm_byte_vec_t bin;
  expect_ok(wasmtime_wat2wasm(WAT, strlen(WAT), &bin), "wat2wasm");
  wasm_module_t *module = wasm_module_new(store, &bin);
  CHECK(module != NULL);
  wasm_byte_vec_delete(&bin);
  wasm_shared_module_t *shared = wasm_module_share(module);
  CHECK(shared != NULL);
  wasm_module_delete(module);
  wasm_store_delete(store);

  pthread_t threads[THREADS];
  struct shared_job jobs[THREADS];
  atomic_store(&host_calls, 0);
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (struct shared_job){.engine = engine, .shared = shared, .id = i};
    CHECK(pthread_create(&threads[i], NULL, wasm_h_worker, &jobs[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
  }
  wasm_shared_module_delete(shared);
  CHECK(atomic_load(&failures) == 0);
  CHECK(atomic_load(&host_calls) == THREADS * ROUNDS);
  c_api_calls = atomic_load(&host_calls);
  printf("wasm.h: %d threads x %d instances of a shared module\n", THREADS, c_api_calls / THREADS);
}

/* An infinite loop on one thread, stopped by another thread's wasmtime_engine_increment_epoch. */
static void test_interrupt_from_thread(void) {
  wasm_config_t *config = wasm_config_new();
  wasmtime_config_epoch_interruption_set(config, true);
  wasm_engine_t *engine = wasm_engine_new_with_config(config);
  CHECK(engine != NULL);
  wasmtime_module_t *module = compile_wat(engine, "(module"
                                                  "  (import \"\" \"started\" (func $started))"
                                                  "  (func (export \"run\")"
                                                  "    call $started"
                                                  "    (loop $l (br $l))))");
  struct spin_job job = {.engine = engine, .module = module, .err = NULL, .trap = NULL};
  atomic_init(&job.started, 0);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, spin_worker, &job) == 0);
  while (!atomic_load(&job.started)) {
    sleep_ms(1);
  }
  sleep_ms(20);
  wasmtime_engine_increment_epoch(engine);
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK(job.err == NULL);
  CHECK(job.trap != NULL);
  wasmtime_trap_code_t code;
  CHECK(wasmtime_trap_code(job.trap, &code));
  CHECK(code == WASMTIME_TRAP_CODE_INTERRUPT);
  CHECK(trap_contains(job.trap, "wasm trap: interrupt"));
  wasm_trap_delete(job.trap);
  printf("an infinite loop was interrupted from another thread\n");
  wasmtime_module_delete(module);
  wasm_engine_delete(engine);
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_module_t *module = compile_wat(engine, WAT);
  test_wasmtime_threads(engine, module);
  wasmtime_module_delete(module);
  test_wasm_h_threads(engine);
  wasm_engine_delete(engine);
  test_interrupt_from_thread();
  DONE("threads");
  return 0;
}
