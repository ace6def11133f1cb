// wasmtime.hh: linking modules together by name with a `Linker`, as in Wasmtime's
// linking.cc example (without WASI).
#include <wasmtime.hh>

#include <iostream>

#include "hh_check.hh"

using namespace wasmtime;

// Exports a counter and a helper used by the second module.
const char *LIB = R"(
  (module
    (global $count (mut i32) (i32.const 0))
    (global (export "base") i32 (i32.const 100))
    (func (export "double") (param i32) (result i32)
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      (i32.mul (local.get 0) (i32.const 2)))
    (func (export "count") (result i32) (global.get $count)))
)";

// Imports from "lib", the host module "env", and a global.
const char *APP = R"(
  (module
    (import "lib" "double" (func $double (param i32) (result i32)))
    (import "lib" "base" (global $base i32))
    (import "env" "log" (func $log (param i32)))
    (import "env" "offset" (global $offset i32))
    (func (export "run") (param i32) (result i32)
      (local i32)
      (local.set 1 (i32.add (call $double (local.get 0))
                            (i32.add (global.get $base) (global.get $offset))))
      (call $log (local.get 1))
      (local.get 1)))
)";

// A command module: its default export is `_start`.
const char *COMMAND = R"(
  (module
    (import "env" "log" (func $log (param i32)))
    (func (export "_start") (call $log (i32.const 42))))
)";

int main() {
  Engine engine;
  Store store(engine);
  Linker linker(engine);

  std::vector<int32_t> logged;
  linker.func_wrap("env", "log", [&logged](int32_t v) { logged.push_back(v); }).unwrap();
  Global offset = Global::create(store, GlobalType(ValKind::I32, false), Val(5)).unwrap();
  linker.define(store, "env", "offset", offset).unwrap();

  Module lib = Module::compile(engine, LIB).unwrap();
  Module app = Module::compile(engine, APP).unwrap();

  // Instantiate the library and define all its exports under "lib".
  Instance lib_instance = linker.instantiate(store, lib).unwrap();
  linker.define_instance(store, "lib", lib_instance).unwrap();

  Instance app_instance = linker.instantiate(store, app).unwrap();
  auto run =
      std::get<Func>(*app_instance.get(store, "run")).typed<int32_t, int32_t>(store).unwrap();
  int32_t r = run.call(store, 7).unwrap();
  std::cout << "run(7) = " << r << std::endl;
  CHECK(r == 7 * 2 + 100 + 5);
  CHECK(logged.size() == 1 && logged[0] == 119);

  // Both instances share the library's state.
  Func count = std::get<Func>(*linker.get(store, "lib", "count"));
  CHECK(count.call(store, {}).unwrap()[0].i32() == 1);
  CHECK(!linker.get(store, "lib", "nothing").has_value());

  // Redefining a name fails unless shadowing is allowed.
  auto dup = linker.define(store, "env", "offset", offset);
  CHECK(!dup);
  std::cout << "duplicate definition refused" << std::endl;
  linker.allow_shadowing(true);
  Global offset2 = Global::create(store, GlobalType(ValKind::I32, false), Val(50)).unwrap();
  linker.define(store, "env", "offset", offset2).unwrap();
  Instance app2 = linker.instantiate(store, app).unwrap();
  std::vector<Val> r2 = std::get<Func>(*app2.get(store, "run")).call(store, {1}).unwrap();
  CHECK(r2[0].i32() == 2 + 100 + 50);
  std::cout << "shadowed offset: run(1) = " << r2[0].i32() << std::endl;

  // A missing import is an error naming it.
  Linker empty(engine);
  auto missing = empty.instantiate(store, app);
  CHECK(!missing);
  CHECK(std::holds_alternative<Error>(missing.err().data));
  CHECK(contains(missing.err().message(), "double"));
  std::cout << "unresolved import reported" << std::endl;

  // `Linker::module` and `get_default` for a command.
  Module command = Module::compile(engine, COMMAND).unwrap();
  linker.module(store, "cmd", command).unwrap();
  Func start = linker.get_default(store, "cmd").unwrap();
  start.call(store, {}).unwrap();
  CHECK(logged.back() == 42);
  // As in Wasmtime, a module without a default export gets a function that does nothing.
  Func nothing = linker.get_default(store, "no-such-module").unwrap();
  CHECK(nothing.call(store, {}).unwrap().empty());
  CHECK(logged.back() == 42);
  std::cout << "command ran through get_default" << std::endl;

  // A host function defined with an explicit type through `func_new`.
  Linker typed(engine);
  typed
      .func_new("env", "log", FuncType({ValKind::I32}, {}),
                [&logged](Caller, Span<const Val> params,
                          Span<Val>) -> Result<std::monostate, Trap> {
                  logged.push_back(params[0].i32() + 1000);
                  return std::monostate();
                })
      .unwrap();
  typed.define(store, "env", "offset", offset).unwrap();
  typed.define_instance(store, "lib", lib_instance).unwrap();
  Instance app3 = typed.instantiate(store, app).unwrap();
  std::get<Func>(*app3.get(store, "run")).call(store, {0}).unwrap();
  CHECK(logged.back() == 1105);
  std::cout << "func_new host function called" << std::endl;
  return 0;
}
