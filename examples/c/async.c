/*
 * async.c: wasm calls an async host function that completes later, on a stack this program
 * allocates.
 *
 * The host function starts a "request" and returns a continuation; each time the embedder
 * polls the call, the continuation checks whether the request is done. Until it is, the
 * call stays suspended and the embedder is free to do other work.
 *
 * Build (from the repository root, after `cargo build --release -p wasmjit-capi`):
 *   cc examples/c/async.c -I capi/include -L target/release -lwasmjit \
 *      -Wl,-rpath,target/release -o async && ./async
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasmtime.h>

static const char *WAT =
    "(module\n"
    "  (import \"host\" \"fetch\" (func $fetch (param i32) (result i32)))\n"
    "  (func (export \"run\") (param i32) (result i32)\n"
    "    (i32.add (call $fetch (local.get 0)) (i32.const 1))))\n";

static void exit_with_error(const char *message, wasmtime_error_t *error, wasm_trap_t *trap) {
  fprintf(stderr, "error: %s\n", message);
  wasm_byte_vec_t text;
  if (error != NULL) {
    wasmtime_error_message(error, &text);
    wasmtime_error_delete(error);
  } else {
    wasm_trap_message(trap, &text);
    wasm_trap_delete(trap);
  }
  fprintf(stderr, "%.*s\n", (int)text.size, text.data);
  wasm_byte_vec_delete(&text);
  exit(1);
}

/* ---- Stacks from the embedder ---- */

typedef struct {
  unsigned char *memory;
  uint8_t *top;
  size_t len;
} my_stack_t;

static uint8_t *my_stack_get(void *env, size_t *len) {
  my_stack_t *stack = (my_stack_t *)env;
  *len = stack->len;
  return stack->top;
}

static void my_stack_free(void *env) {
  my_stack_t *stack = (my_stack_t *)env;
  printf("[stack] freed\n");
  free(stack->memory);
  free(stack);
}

/* A real embedder would add a guard page below the stack (e.g. with mmap); plain heap memory
 * keeps the example short. */
static wasmtime_error_t *my_new_stack(void *env, size_t size, wasmtime_stack_memory_t *out) {
  (void)env;
  my_stack_t *stack = (my_stack_t *)malloc(sizeof *stack);
  stack->memory = (unsigned char *)malloc(size + 16);
  if (stack->memory == NULL) {
    free(stack);
    return wasmtime_error_new("out of memory for a stack");
  }
  /* The stack grows down from a 16-byte aligned top. */
  stack->top = (uint8_t *)(((uintptr_t)(stack->memory + size + 16)) & ~(uintptr_t)15);
  stack->len = size;
  printf("[stack] allocated %zu KiB\n", size / 1024);
  out->env = stack;
  out->get_stack_memory = my_stack_get;
  out->finalizer = my_stack_free;
  return NULL;
}

/* ---- The async host function ---- */

/* A pending request: done after a few polls, then it writes the result. */
typedef struct {
  int polls_left;
  int32_t answer;
  wasmtime_val_t *result;
} request_t;

static bool request_poll(void *env) {
  request_t *request = (request_t *)env;
  if (request->polls_left > 0) {
    printf("  fetch: still waiting (%d)\n", request->polls_left);
    request->polls_left--;
    return false;
  }
  printf("  fetch: done\n");
  request->result->kind = WASMTIME_I32;
  request->result->of.i32 = request->answer;
  return true;
}

static void request_free(void *env) { free(env); }

static void fetch(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args, size_t nargs,
                  wasmtime_val_t *results, size_t nresults, wasm_trap_t **trap_ret,
                  wasmtime_async_continuation_t *continuation) {
  (void)env; (void)caller; (void)nargs; (void)nresults; (void)trap_ret;
  printf("  fetch(%d): request started\n", args[0].of.i32);
  request_t *request = (request_t *)malloc(sizeof *request);
  request->polls_left = 3;
  request->answer = args[0].of.i32 * 2;
  request->result = &results[0]; /* stays valid until the continuation is done */
  continuation->callback = request_poll;
  continuation->env = request;
  continuation->finalizer = request_free;
}

int main(void) {
  printf("Configuring an async engine with our own stacks...\n");
  wasm_config_t *config = wasm_config_new();
  wasmtime_config_async_support_set(config, true);
  wasmtime_config_async_stack_size_set(config, 512 * 1024);
  wasmtime_config_max_wasm_stack_set(config, 256 * 1024);
  wasmtime_stack_creator_t creator = {NULL, my_new_stack, NULL};
  wasmtime_config_host_stack_creator_set(config, &creator);
  wasm_engine_t *engine = wasm_engine_new_with_config(config);
  if (engine == NULL) {
    fprintf(stderr, "error: cannot create the engine\n");
    return 1;
  }
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *context = wasmtime_store_context(store);

  printf("Compiling module...\n");
  wasm_byte_vec_t wasm;
  wasmtime_error_t *error = wasmtime_wat2wasm(WAT, strlen(WAT), &wasm);
  if (error != NULL) {
    exit_with_error("failed to parse the module", error, NULL);
  }
  wasmtime_module_t *module = NULL;
  error = wasmtime_module_new(engine, (uint8_t *)wasm.data, wasm.size, &module);
  wasm_byte_vec_delete(&wasm);
  if (error != NULL) {
    exit_with_error("failed to compile the module", error, NULL);
  }

  printf("Defining the async host function...\n");
  wasmtime_linker_t *linker = wasmtime_linker_new(engine);
  wasm_functype_t *ty = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  error = wasmtime_linker_define_async_func(linker, "host", 4, "fetch", 5, ty, fetch, NULL, NULL);
  wasm_functype_delete(ty);
  if (error != NULL) {
    exit_with_error("failed to define the host function", error, NULL);
  }

  printf("Instantiating module...\n");
  wasmtime_instance_t instance;
  wasm_trap_t *trap = NULL;
  wasmtime_call_future_t *future =
      wasmtime_linker_instantiate_async(linker, context, module, &instance, &trap, &error);
  while (!wasmtime_call_future_poll(future)) {
  }
  wasmtime_call_future_delete(future);
  if (error != NULL || trap != NULL) {
    exit_with_error("failed to instantiate", error, trap);
  }

  printf("Calling run(20)...\n");
  wasmtime_extern_t run;
  if (!wasmtime_instance_export_get(context, &instance, "run", 3, &run)) {
    fprintf(stderr, "error: no export `run`\n");
    return 1;
  }
  wasmtime_val_t arg = {.kind = WASMTIME_I32, .of = {.i32 = 20}};
  wasmtime_val_t result;
  future = wasmtime_func_call_async(context, &run.of.func, &arg, 1, &result, 1, &trap, &error);
  int polls = 1;
  while (!wasmtime_call_future_poll(future)) {
    printf("The call is suspended; the host could do other work here.\n");
    polls++;
  }
  wasmtime_call_future_delete(future);
  if (error != NULL || trap != NULL) {
    exit_with_error("the call failed", error, trap);
  }
  printf("run(20) = %d after %d polls\n", result.of.i32, polls);

  wasmtime_linker_delete(linker);
  wasmtime_module_delete(module);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  printf("All finished!\n");
  return 0;
}
