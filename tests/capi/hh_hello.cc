// wasmtime.hh: a module importing a host function, instantiated directly and through a
// linker, as in Wasmtime's hello.cc example.
#include <wasmtime.hh>

#include <iostream>

#include "hh_check.hh"

using namespace wasmtime;

const char *WAT = R"(
  (module
    (func $hello (import "" "hello"))
    (func (export "run") (call $hello)))
)";

int main() {
  std::cout << "Compiling module..." << std::endl;
  Engine engine;
  Module module = Module::compile(engine, WAT).unwrap();

  std::cout << "Initializing..." << std::endl;
  Store store(engine);

  std::cout << "Creating callback..." << std::endl;
  int calls = 0;
  Func host_func = Func::wrap(store, [&calls]() {
    std::cout << "Calling back..." << std::endl;
    std::cout << "> Hello World!" << std::endl;
    calls++;
  });

  std::cout << "Instantiating module..." << std::endl;
  Instance instance = Instance::create(store, module, {host_func}).unwrap();

  std::cout << "Extracting export..." << std::endl;
  Func run = std::get<Func>(*instance.get(store, "run"));

  std::cout << "Calling export..." << std::endl;
  std::vector<Val> results = run.call(store, {}).unwrap();
  CHECK(results.empty());
  CHECK(calls == 1);

  // The same through a linker, the host function taking a `Caller`.
  Linker linker(engine);
  auto defined = linker.func_wrap("", "hello", [&calls](Caller caller) {
    // The calling instance's exports are visible to the host function.
    std::optional<Extern> run = caller.get_export("run");
    CHECK(run.has_value() && std::holds_alternative<Func>(*run));
    CHECK(!caller.get_export("nope").has_value());
    FuncType ty = std::get<Func>(*run).type(caller.context());
    CHECK(ty->params().size() == 0);
    calls += 10;
  });
  CHECK(defined);
  Instance linked = linker.instantiate(store, module).unwrap();
  Func run2 = std::get<Func>(*linked.get(store, "run"));
  run2.call(store, {}).unwrap();
  CHECK(calls == 11);
  CHECK(!linked.get(store, "missing").has_value());

  std::cout << "All finished!" << std::endl;
  return 0;
}
