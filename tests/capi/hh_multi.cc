// wasmtime.hh: multi-value functions, host functions returning tuples, and `Func`'s
// explicitly typed constructor, as in Wasmtime's multi.cc example.
#include <wasmtime.hh>

#include <iostream>

#include "hh_check.hh"

using namespace wasmtime;

const char *WAT = R"(
  (module
    (func $f (import "" "f") (param i32 i64) (result i64 i32))
    (func $dyn (import "" "dyn") (param f32 f64) (result f64 f32))
    (func $g (export "g") (param i32 i64) (result i64 i32)
      (call $f (local.get 0) (local.get 1)))
    (func (export "round_trip_many")
      (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
      (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
      local.get 0 local.get 1 local.get 2 local.get 3 local.get 4
      local.get 5 local.get 6 local.get 7 local.get 8 local.get 9)
    (func (export "call_dyn") (param f32 f64) (result f64 f32)
      (call $dyn (local.get 0) (local.get 1))))
)";

int main() {
  Engine engine;
  Store store(engine);
  Module module = Module::compile(engine, WAT).unwrap();

  std::cout << "Creating callback..." << std::endl;
  Func f = Func::wrap(store, [](int32_t a, int64_t b) -> std::tuple<int64_t, int32_t> {
    std::cout << "Calling back..." << std::endl;
    std::cout << "> " << a << " " << b << std::endl;
    return {b + 1, a + 1};
  });

  // An explicitly typed host function swapping and scaling its arguments.
  FuncType dyn_ty({ValKind::F32, ValKind::F64}, {ValKind::F64, ValKind::F32});
  Func dyn(store, dyn_ty,
           [](Caller, Span<const Val> params, Span<Val> results) -> Result<std::monostate, Trap> {
             CHECK(params.size() == 2 && results.size() == 2);
             results[0] = params[1].f64() * 2;
             results[1] = params[0].f32() * 2;
             return std::monostate();
           });

  std::cout << "Instantiating module..." << std::endl;
  Instance instance = Instance::create(store, module, {f, dyn}).unwrap();

  std::cout << "Calling export \"g\"..." << std::endl;
  Func g = std::get<Func>(*instance.get(store, "g"));
  std::vector<Val> results = g.call(store, {1, int64_t(3)}).unwrap();
  std::cout << "Printing result..." << std::endl;
  std::cout << "> " << results[0].i64() << " " << results[1].i32() << std::endl;
  CHECK(results.size() == 2 && results[0].i64() == 4 && results[1].i32() == 2);

  // The same through a typed view.
  auto typed_g =
      g.typed<std::tuple<int32_t, int64_t>, std::tuple<int64_t, int32_t>>(store).unwrap();
  auto [x, y] = typed_g.call(store, {10, 20}).unwrap();
  CHECK(x == 21 && y == 11);

  std::cout << "Calling export \"round_trip_many\"..." << std::endl;
  Func many = std::get<Func>(*instance.get(store, "round_trip_many"));
  using Ten = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                         int64_t, int64_t>;
  auto typed_many = many.typed<Ten, Ten>(store).unwrap();
  Ten out = typed_many.call(store, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}).unwrap();
  std::cout << "Printing result..." << std::endl;
  std::cout << ">";
  std::apply([](auto... v) { ((std::cout << " " << v), ...); }, out);
  std::cout << std::endl;
  CHECK(std::get<0>(out) == 0 && std::get<9>(out) == 9);

  Func call_dyn = std::get<Func>(*instance.get(store, "call_dyn"));
  auto typed_dyn =
      call_dyn.typed<std::tuple<float, double>, std::tuple<double, float>>(store).unwrap();
  auto [d, s] = typed_dyn.call(store, {1.5f, 2.25}).unwrap();
  std::cout << "dyn(1.5, 2.25) = " << d << " " << s << std::endl;
  CHECK(d == 4.5 && s == 3.0f);

  // A host function returning the wrong kind of value traps instead of corrupting state.
  Func liar(store, FuncType({}, {ValKind::I32}),
            [](Caller, Span<const Val>, Span<Val> results) -> Result<std::monostate, Trap> {
              results[0] = int64_t(1);
              return std::monostate();
            });
  CHECK(!liar.call(store, {}));
  std::cout << "ill-typed host result refused" << std::endl;
  return 0;
}
