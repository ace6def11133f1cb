// wasmtime.hh: host values passed through WebAssembly as `externref`s, in tables, globals
// and calls, as in Wasmtime's externref.cc example.
#include <wasmtime.hh>

#include <iostream>

#include "hh_check.hh"

using namespace wasmtime;

const char *WAT = R"(
  (module
    (func $host (import "" "host") (param externref) (result externref))
    (table $table (export "table") 10 externref)
    (global $global (export "global") (mut externref) (ref.null extern))
    (func (export "func") (param externref) (result externref)
      local.get 0)
    (func (export "is_null") (param externref) (result i32)
      (ref.is_null (local.get 0)))
    (func (export "via_host") (param externref) (result externref)
      (call $host (local.get 0))))
)";

int main() {
  std::cout << "Initializing..." << std::endl;
  Engine engine;
  Store store(engine);

  std::cout << "Compiling module..." << std::endl;
  Module module = Module::compile(engine, WAT).unwrap();

  // A host function that receives an externref and returns another one.
  int host_calls = 0;
  Func host = Func::wrap(store, [&host_calls](Caller caller, std::optional<ExternRef> ref)
                                    -> std::optional<ExternRef> {
    host_calls++;
    CHECK(ref.has_value());
    std::string text = std::any_cast<std::string>(ref->data(caller));
    return ExternRef(caller, text + " (seen by the host)");
  });

  std::cout << "Instantiating module..." << std::endl;
  Instance instance = Instance::create(store, module, {host}).unwrap();

  std::cout << "Creating new `externref`..." << std::endl;
  ExternRef externref(store, std::string("Hello, World!"));
  std::any &data = externref.data(store);
  std::cout << "externref data: " << std::any_cast<std::string>(data) << std::endl;

  std::cout << "Touching `externref` table..." << std::endl;
  Table table = std::get<Table>(*instance.get(store, "table"));
  table.set(store, 3, externref).unwrap();
  std::optional<Val> elem = table.get(store, 3);
  CHECK(elem && elem->kind() == ValKind::ExternRef);
  std::optional<ExternRef> from_table = elem->externref(store);
  CHECK(from_table.has_value());
  std::cout << "externref data: " << std::any_cast<std::string>(from_table->data(store))
            << std::endl;
  CHECK(!table.get(store, 4)->externref().has_value());
  CHECK(!table.get(store, 10).has_value());
  CHECK(!table.set(store, 10, externref));

  std::cout << "Touching `externref` global..." << std::endl;
  Global global = std::get<Global>(*instance.get(store, "global"));
  CHECK(!global.get(store).externref().has_value());
  global.set(store, externref).unwrap();
  std::optional<ExternRef> from_global = global.get(store).externref(store);
  std::cout << "externref data: " << std::any_cast<std::string>(from_global->data(store))
            << std::endl;

  std::cout << "Calling `externref` func..." << std::endl;
  Func func = std::get<Func>(*instance.get(store, "func"));
  std::vector<Val> results = func.call(store, {externref}).unwrap();
  std::cout << "externref data: "
            << std::any_cast<std::string>(results[0].externref(store)->data(store)) << std::endl;

  // Null references and a typed view.
  auto is_null = std::get<Func>(*instance.get(store, "is_null"))
                     .typed<std::optional<ExternRef>, int32_t>(store)
                     .unwrap();
  CHECK(is_null.call(store, std::nullopt).unwrap() == 1);
  CHECK(is_null.call(store, externref).unwrap() == 0);
  std::vector<Val> null_result = func.call(store, {std::optional<ExternRef>()}).unwrap();
  CHECK(!null_result[0].externref().has_value());

  // Through the host function.
  auto via_host = std::get<Func>(*instance.get(store, "via_host"))
                      .typed<std::optional<ExternRef>, std::optional<ExternRef>>(store)
                      .unwrap();
  std::optional<ExternRef> back = via_host.call(store, externref).unwrap();
  CHECK(host_calls == 1);
  std::cout << "externref data: " << std::any_cast<std::string>(back->data(store)) << std::endl;

  // Mutating the host value is visible through every reference to it.
  std::any_cast<std::string &>(externref.data(store)) = "changed";
  CHECK(std::any_cast<std::string>(from_table->data(store)) == "changed");

  // Any C++ type can be held.
  ExternRef number(store, 42);
  CHECK(std::any_cast<int>(number.data(store)) == 42);
  ExternRef copy = number.clone(store);
  CHECK(std::any_cast<int>(copy.data(store)) == 42);

  std::cout << "GCing within the store..." << std::endl;
  store.context().gc();
  // Newer versions of the API return a Result; both forms compile.
  CHECK(store.context().gc());
  CHECK(store.gc());
  CHECK(std::any_cast<int>(number.data(store)) == 42);

  std::cout << "Done." << std::endl;
  return 0;
}
