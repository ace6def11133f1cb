// wasmtime.hh: calling an exported function with `Val`s and through a `TypedFunc`, as in
// Wasmtime's gcd.cc example.
#include <wasmtime.hh>

#include <iostream>

#include "hh_check.hh"

using namespace wasmtime;

const char *WAT = R"(
  (module
    (func $gcd (export "gcd") (param i32 i32) (result i32)
      (local i32)
      block
        block
          local.get 0
          br_if 0
          local.get 1
          local.set 2
          br 1
        end
        loop
          local.get 1
          local.get 0
          local.tee 2
          i32.rem_u
          local.set 0
          local.get 2
          local.set 1
          local.get 0
          br_if 0
        end
      end
      local.get 2)
    (func (export "add64") (param i64 i64) (result i64)
      (i64.add (local.get 0) (local.get 1)))
    (func (export "scale") (param f32 f64) (result f64)
      (f64.mul (f64.promote_f32 (local.get 0)) (local.get 1))))
)";

int main() {
  Engine engine;
  Store store(engine);
  Module module = Module::compile(engine, WAT).unwrap();
  Instance instance = Instance::create(store, module, {}).unwrap();
  Func gcd = std::get<Func>(*instance.get(store, "gcd"));

  // Untyped call.
  std::vector<Val> results = gcd.call(store, {6, 27}).unwrap();
  CHECK(results.size() == 1);
  CHECK(results[0].kind() == ValKind::I32);
  std::cout << "gcd(6, 27) = " << results[0].i32() << std::endl;
  CHECK(results[0].i32() == 3);

  // Typed call.
  auto typed = gcd.typed<std::tuple<int32_t, int32_t>, int32_t>(store).unwrap();
  int32_t r = typed.call(store, {48, 18}).unwrap();
  std::cout << "gcd(48, 18) = " << r << std::endl;
  CHECK(r == 6);

  // Other numeric types.
  Func add64 = std::get<Func>(*instance.get(store, "add64"));
  auto add = add64.typed<std::tuple<int64_t, int64_t>, int64_t>(store).unwrap();
  int64_t big = add.call(store, {int64_t(1) << 40, 5}).unwrap();
  std::cout << "add64 = " << big << std::endl;
  CHECK(big == (int64_t(1) << 40) + 5);
  Func scale = std::get<Func>(*instance.get(store, "scale"));
  std::vector<Val> scaled = scale.call(store, {1.5f, 4.0}).unwrap();
  std::cout << "scale = " << scaled[0].f64() << std::endl;
  CHECK(scaled[0].f64() == 6.0);

  // The function's type.
  FuncType ty = gcd.type(store);
  CHECK(ty->params().size() == 2);
  CHECK(ty->results().size() == 1);
  for (const auto &p : ty->params()) {
    std::cout << "param " << p.kind() << std::endl;
  }

  // A wrong static type is refused; wrong dynamic arguments are an error.
  auto wrong = gcd.typed<int32_t, int32_t>(store);
  CHECK(!wrong);
  std::cout << "typed mismatch: " << wrong.err().message() << std::endl;
  auto bad = gcd.call(store, {int64_t(1), 2});
  CHECK(!bad);
  CHECK(std::holds_alternative<Error>(bad.err().data));
  return 0;
}
