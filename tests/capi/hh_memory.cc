// wasmtime.hh: a module's memory read and written from the host, grown, and a host-made
// memory, as in Wasmtime's memory.cc example.
#include <wasmtime.hh>

#include <iostream>

#include "hh_check.hh"

using namespace wasmtime;

const char *WAT = R"(
  (module
    (memory (export "memory") 2 3)
    (func (export "size") (result i32) (memory.size))
    (func (export "load") (param i32) (result i32)
      (i32.load8_s (local.get 0)))
    (func (export "store") (param i32 i32)
      (i32.store8 (local.get 0) (local.get 1)))
    (data (i32.const 0x1000) "\01\02\03\04"))
)";

int main() {
  Engine engine;
  Store store(engine);
  Module module = Module::compile(engine, WAT).unwrap();
  Instance instance = Instance::create(store, module, {}).unwrap();
  Memory memory = std::get<Memory>(*instance.get(store, "memory"));
  Func size = std::get<Func>(*instance.get(store, "size"));
  auto load = std::get<Func>(*instance.get(store, "load")).typed<int32_t, int32_t>(store).unwrap();
  auto store_fn = std::get<Func>(*instance.get(store, "store"))
                      .typed<std::tuple<int32_t, int32_t>, std::monostate>(store)
                      .unwrap();

  std::cout << "Checking memory..." << std::endl;
  CHECK(memory.size(store) == 2);
  Span<uint8_t> data = memory.data(store);
  CHECK(data.size() == 0x20000);
  CHECK(data[0] == 0);
  CHECK(data[0x1000] == 1);
  CHECK(data[0x1003] == 4);
  CHECK(size.call(store, {}).unwrap()[0].i32() == 2);
  CHECK(load.call(store, 0).unwrap() == 0);
  CHECK(load.call(store, 0x1002).unwrap() == 3);
  CHECK(load.call(store, 0x1ffff).unwrap() == 0);

  // Out of bounds loads trap.
  auto oob = load.call(store, 0x20000);
  CHECK(!oob);
  const Trap &trap = std::get<Trap>(oob.err().data);
  CHECK(trap.code() == TrapCode::MemoryOutOfBounds);
  std::cout << "load out of bounds: trapped" << std::endl;

  std::cout << "Mutating memory..." << std::endl;
  memory.data(store)[0x1003] = 5;
  store_fn.call(store, {0x1002, 6}).unwrap();
  CHECK(!store_fn.call(store, {0x20000, 0}));
  CHECK(memory.data(store)[0x1002] == 6);
  CHECK(memory.data(store)[0x1003] == 5);
  CHECK(load.call(store, 0x1002).unwrap() == 6);
  CHECK(load.call(store, 0x1003).unwrap() == 5);

  std::cout << "Growing memory..." << std::endl;
  CHECK(memory.grow(store, 1).unwrap() == 2);
  CHECK(memory.size(store) == 3);
  CHECK(memory.data(store).size() == 0x30000);
  CHECK(load.call(store, 0x20000).unwrap() == 0);
  store_fn.call(store, {0x20000, 0}).unwrap();
  CHECK(!load.call(store, 0x30000));
  auto too_far = memory.grow(store, 1);
  CHECK(!too_far);
  std::cout << "grow past maximum: " << (too_far ? "ok" : "error") << std::endl;
  CHECK(memory.grow(store, 0).unwrap() == 3);

  std::cout << "Creating stand-alone memory..." << std::endl;
  MemoryType ty(5, 5);
  CHECK(ty->min() == 5);
  CHECK(ty->max() == std::optional<uint64_t>(5));
  CHECK(!ty->is_64());
  Memory memory2 = Memory::create(store, ty).unwrap();
  CHECK(memory2.size(store) == 5);
  CHECK(!memory2.grow(store, 1));
  CHECK(memory2.grow(store, 0).unwrap() == 5);
  MemoryType ty2 = memory2.type(store);
  CHECK(ty2->min() == 5);
  MemoryType unbounded(1);
  CHECK(!unbounded->max().has_value());
  MemoryType built = MemoryType::Builder().min(2).max(4).build();
  CHECK(built->min() == 2 && built->max() == std::optional<uint64_t>(4));

  // A host function reading the caller's memory through `Caller::get_export`.
  const char *SUM = R"(
    (module
      (import "" "sum" (func $sum (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "\01\02\03\04\05")
      (func (export "run") (result i32) (call $sum (i32.const 16) (i32.const 5))))
  )";
  Linker linker(engine);
  linker
      .func_wrap("", "sum",
                 [](Caller caller, int32_t ptr, int32_t len) -> Result<int32_t, Trap> {
                   std::optional<Extern> mem = caller.get_export("memory");
                   if (!mem || !std::holds_alternative<Memory>(*mem)) {
                     return Trap("no memory export");
                   }
                   Span<uint8_t> bytes = std::get<Memory>(*mem).data(caller);
                   if (ptr < 0 || len < 0 || size_t(ptr) + size_t(len) > bytes.size()) {
                     return Trap("out of bounds");
                   }
                   int32_t total = 0;
                   for (int32_t i = 0; i < len; i++) {
                     total += bytes[ptr + i];
                   }
                   return total;
                 })
      .unwrap();
  Module sum_module = Module::compile(engine, SUM).unwrap();
  Instance sum_instance = linker.instantiate(store, sum_module).unwrap();
  auto run = std::get<Func>(*sum_instance.get(store, "run")).typed<std::monostate, int32_t>(store);
  int32_t total = run.unwrap().call(store, std::monostate()).unwrap();
  std::cout << "sum of caller memory = " << total << std::endl;
  CHECK(total == 15);

  std::cout << "Shutting down..." << std::endl;
  return 0;
}
