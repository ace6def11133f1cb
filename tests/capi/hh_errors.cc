// wasmtime.hh: errors and traps: compile errors, traps with their codes and backtraces, host
// traps, exceptions thrown by host functions, and `Result` handling.
#include <wasmtime.hh>

#include <iostream>
#include <sstream>
#include <stdexcept>

#include "hh_check.hh"

using namespace wasmtime;

const char *WAT = R"(
  (module $errors
    (func $fail (import "" "fail"))
    (func $throws (import "" "throws"))
    (func $div (export "div") (param i32 i32) (result i32)
      (i32.div_s (local.get 0) (local.get 1)))
    (func $inner (unreachable))
    (func $outer (export "outer") (call $inner))
    (func (export "call_fail") (call $fail))
    (func (export "call_throws") (call $throws))
    (func $recurse (export "recurse") (call $recurse)))
)";

int main() {
  Engine engine;
  Store store(engine);

  // Compile errors.
  auto bad_wat = Module::compile(engine, "(module (func (result i32)))");
  CHECK(!bad_wat);
  std::cout << "invalid module: error" << std::endl;
  auto bad_text = Module::compile(engine, "(module (func");
  CHECK(!bad_text);
  CHECK(!bad_text.err().message().empty());
  std::vector<uint8_t> junk = {0, 'a', 's', 'x'};
  CHECK(!Module::compile(engine, junk));
  CHECK(!Module::validate(engine, junk));
  CHECK(!wat2wasm("(module (func (param i32) (local.get 5)").operator bool());
  std::ostringstream printed;
  printed << bad_text.err();
  CHECK(!printed.str().empty());

  Module module = Module::compile(engine, WAT).unwrap();
  Func fail = Func::wrap(store, []() -> Result<std::monostate, Trap> {
    return Trap("host says no");
  });
  Func throws = Func::wrap(store, []() { throw std::runtime_error("thrown from C++"); });
  Instance instance = Instance::create(store, module, {fail, throws}).unwrap();

  // Traps raised by WebAssembly carry a code and a backtrace.
  auto div = std::get<Func>(*instance.get(store, "div"))
                 .typed<std::tuple<int32_t, int32_t>, int32_t>(store)
                 .unwrap();
  CHECK(div.call(store, {7, 2}).unwrap() == 3);
  auto by_zero = div.call(store, {7, 0});
  CHECK(!by_zero);
  CHECK(std::get<Trap>(by_zero.err().data).code() == TrapCode::IntegerDivisionByZero);
  auto overflow = div.call(store, {INT32_MIN, -1});
  CHECK(std::get<Trap>(overflow.err().data).code() == TrapCode::IntegerOverflow);
  std::cout << "division traps: by zero, overflow" << std::endl;

  Func outer = std::get<Func>(*instance.get(store, "outer"));
  auto unreachable = outer.call(store, {});
  CHECK(!unreachable);
  const Trap &trap = std::get<Trap>(unreachable.err().data);
  CHECK(trap.code() == TrapCode::UnreachableCodeReached);
  Trace trace = trap.trace();
  CHECK(trace.size() == 2);
  std::cout << "unreachable trace:";
  for (const FrameRef &frame : trace) {
    std::cout << " " << frame.func_index() << ":" << frame.func_name().value_or("?");
    CHECK(frame.module_name() == std::optional<std::string_view>("errors"));
  }
  std::cout << std::endl;
  CHECK(trace.begin()->func_name() == std::optional<std::string_view>("inner"));

  // A host trap comes back, as in Wasmtime, as an error carrying its message.
  auto host_trap = std::get<Func>(*instance.get(store, "call_fail")).call(store, {});
  CHECK(!host_trap);
  CHECK(contains(host_trap.err().message(), "host says no"));
  std::cout << "host trap: reported" << std::endl;
  CHECK(Trap("no code").code() == std::nullopt);

  // An exception from a host function becomes a trap.
  auto thrown = std::get<Func>(*instance.get(store, "call_throws")).call(store, {});
  CHECK(!thrown);
  CHECK(contains(thrown.err().message(), "thrown from C++"));
  std::cout << "exception: reported as a trap" << std::endl;

  // Stack overflow.
  auto deep = std::get<Func>(*instance.get(store, "recurse")).call(store, {});
  CHECK(!deep);
  CHECK(std::get<Trap>(deep.err().data).code() == TrapCode::StackOverflow);
  std::cout << "stack overflow trapped" << std::endl;

  // Instantiation with the wrong imports.
  auto wrong_count = Instance::create(store, module, {fail});
  CHECK(!wrong_count);
  CHECK(std::holds_alternative<Error>(wrong_count.err().data));
  Func typed_wrong = Func::wrap(store, [](int32_t) {});
  CHECK(!Instance::create(store, module, {typed_wrong, throws}));
  std::cout << "bad imports refused" << std::endl;

  // A start function that traps fails instantiation with a trap.
  Module starts = Module::compile(engine, "(module (func $s unreachable) (start $s))").unwrap();
  auto started = Instance::create(store, starts, {});
  CHECK(!started);
  CHECK(std::holds_alternative<Trap>(started.err().data));

  // Errors made by the embedder, and host traps.
  Error custom("custom failure");
  CHECK(custom.message() == "custom failure");
  CHECK(!custom.i32_exit().has_value());
  Trap made("made by hand");
  CHECK(made.message() == "made by hand");
  TrapError either(std::move(made));
  CHECK(either.message() == "made by hand");

  // Results.
  Result<int> ok(5);
  CHECK(ok && ok.ok() == 5);
  Result<int> err(Error("nope"));
  CHECK(!err && err.err().message() == "nope");
  CHECK(Result<int>(7).unwrap() == 7);

  // Setting an immutable global or a value of the wrong type is an error.
  Global g = Global::create(store, GlobalType(ValKind::I32, false), Val(1)).unwrap();
  CHECK(!g.set(store, Val(2)));
  Global m = Global::create(store, GlobalType(ValKind::I32, true), Val(1)).unwrap();
  CHECK(!m.set(store, Val(2.0)));
  CHECK(m.set(store, Val(3)));
  CHECK(m.get(store).i32() == 3);
  CHECK(!Global::create(store, GlobalType(ValKind::I64, false), Val(1)));
  std::cout << "global misuse refused" << std::endl;
  return 0;
}
