// The C API used from C++17: RAII wrappers over the C handles, a host function as a lambda,
// and a call through a linker.
#include <wasmtime.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct EngineDeleter {
  void operator()(wasm_engine_t *e) const { wasm_engine_delete(e); }
};
struct StoreDeleter {
  void operator()(wasmtime_store_t *s) const { wasmtime_store_delete(s); }
};
struct LinkerDeleter {
  void operator()(wasmtime_linker_t *l) const { wasmtime_linker_delete(l); }
};
struct ModuleDeleter {
  void operator()(wasmtime_module_t *m) const { wasmtime_module_delete(m); }
};

void check(wasmtime_error_t *err, wasm_trap_t *trap = nullptr) {
  if (err != nullptr) {
    wasm_name_t msg;
    wasmtime_error_message(err, &msg);
    std::string text(msg.data, msg.size);
    wasm_byte_vec_delete(&msg);
    wasmtime_error_delete(err);
    throw std::runtime_error(text);
  }
  if (trap != nullptr) {
    wasm_message_t msg;
    wasm_trap_message(trap, &msg);
    std::string text(msg.data);
    wasm_byte_vec_delete(&msg);
    wasm_trap_delete(trap);
    throw std::runtime_error(text);
  }
}

// A host function whose environment is a C++ object.
struct Accumulator {
  std::vector<int32_t> seen;
};

wasm_trap_t *record(void *env, wasmtime_caller_t *, const wasmtime_val_t *args, size_t nargs,
                    wasmtime_val_t *results, size_t) {
  auto *acc = static_cast<Accumulator *>(env);
  for (size_t i = 0; i < nargs; i++) {
    acc->seen.push_back(args[i].of.i32);
  }
  results[0].kind = WASMTIME_I32;
  results[0].of.i32 = static_cast<int32_t>(acc->seen.size());
  return nullptr;
}

}  // namespace

int main() {
  try {
    std::unique_ptr<wasm_engine_t, EngineDeleter> engine(wasm_engine_new());
    Accumulator acc;
    std::unique_ptr<wasmtime_store_t, StoreDeleter> store(
        wasmtime_store_new(engine.get(), &acc, nullptr));
    wasmtime_context_t *ctx = wasmtime_store_context(store.get());

    std::unique_ptr<wasmtime_linker_t, LinkerDeleter> linker(wasmtime_linker_new(engine.get()));
    wasm_functype_t *ty = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
    check(wasmtime_linker_define_func(linker.get(), "env", 3, "record", 6, ty, record, &acc,
                                      nullptr));
    wasm_functype_delete(ty);

    const char *wat =
        "(module (import \"env\" \"record\" (func $r (param i32) (result i32)))"
        "  (func (export \"run\") (param i32) (result i32)"
        "    (local $i i32) (local $n i32)"
        "    (loop $l (local.set $n (call $r (local.get $i)))"
        "      (local.set $i (i32.add (local.get $i) (i32.const 1)))"
        "      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))"
        "    (local.get $n)))";
    wasm_byte_vec_t bin;
    check(wasmtime_wat2wasm(wat, std::strlen(wat), &bin));
    wasmtime_module_t *raw_module = nullptr;
    check(wasmtime_module_new(engine.get(), reinterpret_cast<const uint8_t *>(bin.data), bin.size,
                              &raw_module));
    wasm_byte_vec_delete(&bin);
    std::unique_ptr<wasmtime_module_t, ModuleDeleter> module(raw_module);

    wasmtime_instance_t instance;
    wasm_trap_t *trap = nullptr;
    check(wasmtime_linker_instantiate(linker.get(), ctx, module.get(), &instance, &trap), trap);
    wasmtime_extern_t run;
    if (!wasmtime_instance_export_get(ctx, &instance, "run", 3, &run)) {
      throw std::runtime_error("no export run");
    }
    wasmtime_val_t arg;
    arg.kind = WASMTIME_I32;
    arg.of.i32 = 5;
    wasmtime_val_t result;
    check(wasmtime_func_call(ctx, &run.of.func, &arg, 1, &result, 1, &trap), trap);
    std::printf("calls = %d, last = %d\n", result.of.i32, acc.seen.back());
    if (static_cast<Accumulator *>(wasmtime_context_get_data(ctx)) != &acc) {
      throw std::runtime_error("store data lost");
    }
    // Errors surface as exceptions here.
    try {
      check(wasmtime_func_call(ctx, &run.of.func, nullptr, 0, &result, 1, &trap), trap);
      return 1;
    } catch (const std::runtime_error &e) {
      std::printf("error: %s\n", e.what());
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
