// wasmtime.hh: interrupting an infinite loop with epochs from another thread, as in
// Wasmtime's interrupt.cc example.
#include <wasmtime.hh>

#include <chrono>
#include <iostream>
#include <thread>

#include "hh_check.hh"

using namespace wasmtime;

const char *WAT = R"(
  (module
    (func (export "run")
      (loop br 0))
    (func (export "quick") (result i32) (i32.const 7)))
)";

int main() {
  Config config;
  config.epoch_interruption(true);
  Engine engine(std::move(config));
  Store store(engine);
  store.context().set_epoch_deadline(1);

  Module module = Module::compile(engine, WAT).unwrap();
  Instance instance = Instance::create(store, module, {}).unwrap();
  Func run = std::get<Func>(*instance.get(store, "run"));
  Func quick = std::get<Func>(*instance.get(store, "quick"));

  // Before the epoch moves, code runs.
  CHECK(quick.call(store, {}).unwrap()[0].i32() == 7);

  std::cout << "Entering infinite loop..." << std::endl;
  // The engine is shared with the thread that ticks the epoch.
  std::thread ticker([engine]() {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::cout << "Interrupting!" << std::endl;
    engine.increment_epoch();
  });

  auto result = run.call(store, {});
  ticker.join();
  CHECK(!result);
  const Trap &trap = std::get<Trap>(result.err().data);
  CHECK(trap.code() == TrapCode::Interrupt);
  std::cout << "trap received..." << std::endl;

  // A new deadline lets code run again, and another tick interrupts it again.
  store.context().set_epoch_deadline(1);
  CHECK(quick.call(store, {}).unwrap()[0].i32() == 7);
  engine.increment_epoch();
  auto again = run.call(store, {});
  CHECK(!again);
  CHECK(std::get<Trap>(again.err().data).code() == TrapCode::Interrupt);
  std::cout << "interrupted again after an immediate tick" << std::endl;
  return 0;
}
