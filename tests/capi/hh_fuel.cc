// wasmtime.hh: fuel metering, as in Wasmtime's fuel.cc example.
#include <wasmtime.hh>

#include <iostream>

#include "hh_check.hh"

using namespace wasmtime;

const char *WAT = R"(
  (module
    (func $fibonacci (export "fibonacci") (param $n i32) (result i32)
      (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
        (then (local.get $n))
        (else
          (i32.add
            (call $fibonacci (i32.sub (local.get $n) (i32.const 1)))
            (call $fibonacci (i32.sub (local.get $n) (i32.const 2))))))))
)";

int main() {
  Config config;
  config.consume_fuel(true);
  Engine engine(std::move(config));
  Store store(engine);
  CHECK(store.context().get_fuel().unwrap() == 0);
  store.context().set_fuel(10000).unwrap();
  CHECK(store.context().get_fuel().unwrap() == 10000);

  Module module = Module::compile(engine, WAT).unwrap();
  Instance instance = Instance::create(store, module, {}).unwrap();
  auto fib =
      std::get<Func>(*instance.get(store, "fibonacci")).typed<int32_t, int32_t>(store).unwrap();

  // Call it with growing arguments until the fuel runs out.
  int32_t expected[] = {0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987};
  int32_t n = 1;
  uint64_t last_fuel = 10000;
  for (;; n++) {
    uint64_t before = store.context().get_fuel().unwrap();
    auto result = fib.call(store, n);
    if (!result) {
      const Trap &trap = std::get<Trap>(result.err().data);
      CHECK(trap.code() == TrapCode::OutOfFuel);
      std::cout << "Exhausted fuel part-way through the calls" << std::endl;
      break;
    }
    int32_t value = result.unwrap();
    CHECK(n < 17 && value == expected[n]);
    uint64_t after = store.context().get_fuel().unwrap();
    CHECK(after < before);
    last_fuel = after;
  }
  CHECK(n > 5);
  CHECK(last_fuel < 10000);

  // Refuelled, the same call completes.
  store.context().set_fuel(1000000).unwrap();
  CHECK(n < 17);
  CHECK(fib.call(store, n).unwrap() == expected[n]);
  CHECK(store.context().get_fuel().unwrap() < 1000000);
  std::cout << "Refuelled: the call that ran out completes" << std::endl;

  // Without fuel consumption, fuel cannot be set or read.
  Engine plain;
  Store plain_store(plain);
  CHECK(!plain_store.context().set_fuel(1));
  CHECK(!plain_store.context().get_fuel());
  std::cout << "Fuel needs consume_fuel: " << plain_store.context().get_fuel().err().message()
            << std::endl;
  return 0;
}
