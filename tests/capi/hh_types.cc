// wasmtime.hh: configuration, module type information, serialization, host-made tables and
// globals, funcrefs, store data and export enumeration.
#include <wasmtime.hh>

#include <iostream>
#include <string>

#include "hh_check.hh"

using namespace wasmtime;

const char *WAT = R"(
  (module
    (import "host" "f" (func (param i32) (result i64)))
    (import "host" "g" (global (mut f64)))
    (import "host" "t" (table 1 8 funcref))
    (import "host" "m" (memory 1))
    (func $answer (result i32) (i32.const 42))
    (func (export "call_elem") (param i32) (result i32)
      (call_indirect 0 (result i32) (local.get 0)))
    (func (export "answer") (result i32) (call $answer))
    (global (export "gv") i64 (i64.const -7))
    (table (export "tab") 2 funcref)
    (memory (export "mem") 1 2)
    (elem (table 0) (i32.const 0) func $answer))
)";

const char *kind_name(const ExternType::Ref &ty) {
  if (std::holds_alternative<FuncType::Ref>(ty)) {
    return "func";
  }
  if (std::holds_alternative<GlobalType::Ref>(ty)) {
    return "global";
  }
  if (std::holds_alternative<TableType::Ref>(ty)) {
    return "table";
  }
  return "memory";
}

int main() {
  Config config;
  config.wasm_reference_types(true);
  config.wasm_bulk_memory(true);
  config.wasm_multi_value(true);
  config.wasm_simd(true);
  config.cranelift_opt_level(OptLevel::Speed);
  config.strategy(Strategy::Cranelift);
  config.max_wasm_stack(512 * 1024);
  Engine engine(std::move(config));
  Engine same = engine;
  CHECK(!same.is_pulley());
  Store store(engine);

  std::vector<uint8_t> wasm = wat2wasm(WAT).unwrap();
  CHECK(Module::validate(engine, wasm));
  Module module = Module::compile(engine, wasm).unwrap();

  std::cout << "imports:" << std::endl;
  for (const auto &imp : module.imports()) {
    ExternType::Ref ty = ExternType::from_import(imp);
    std::cout << "  " << imp.module() << "." << imp.name() << ": " << kind_name(ty) << std::endl;
    if (const auto *f = std::get_if<FuncType::Ref>(&ty)) {
      CHECK(f->params().size() == 1 && f->params().begin()->kind() == ValKind::I32);
      CHECK(f->results().begin()->kind() == ValKind::I64);
    } else if (const auto *g = std::get_if<GlobalType::Ref>(&ty)) {
      CHECK(g->is_mutable() && g->content().kind() == ValKind::F64);
    } else if (const auto *t = std::get_if<TableType::Ref>(&ty)) {
      CHECK(t->min() == 1 && t->max() == std::optional<uint32_t>(8));
      CHECK(t->element().kind() == ValKind::FuncRef);
    } else {
      const auto &mt = std::get<MemoryType::Ref>(ty);
      CHECK(mt.min() == 1 && !mt.max().has_value());
    }
  }
  ExportType::List exports = module.exports();
  CHECK(exports.size() == 5);
  std::cout << "exports:";
  for (const auto &exp : exports) {
    std::cout << " " << exp.name() << "(" << kind_name(ExternType::from_export(exp)) << ")";
  }
  std::cout << std::endl;

  // Serialize and deserialize.
  std::vector<uint8_t> bytes = module.serialize().unwrap();
  CHECK(!bytes.empty());
  Module again = Module::deserialize(engine, bytes).unwrap();
  CHECK(again.imports().size() == 4);
  std::vector<uint8_t> garbage(64, 0xab);
  CHECK(!Module::deserialize(engine, garbage));
  std::cout << "serialized and deserialized" << std::endl;

  // Host-made imports.
  Func f = Func::wrap(store, [](int32_t x) -> int64_t { return int64_t(x) * 3; });
  Global g = Global::create(store, GlobalType(ValKind::F64, true), Val(1.25)).unwrap();
  Table t = Table::create(store, TableType(ValKind::FuncRef, 1, 8), std::optional<Func>()).unwrap();
  Memory m = Memory::create(store, MemoryType(1)).unwrap();
  Instance instance = Instance::create(store, again, {f, g, t, m}).unwrap();

  // The module's element segment put `$answer` into the imported table.
  std::optional<Val> elem = t.get(store, 0);
  CHECK(elem && elem->kind() == ValKind::FuncRef);
  std::optional<Func> answer = elem->funcref();
  CHECK(answer.has_value());
  CHECK(answer->call(store, {}).unwrap()[0].i32() == 42);
  CHECK(t.size(store) == 1);
  CHECK(t.grow(store, 2, f).unwrap() == 1);
  CHECK(t.size(store) == 3);
  CHECK(!t.grow(store, 100, std::optional<Func>()));
  TableType tt = t.type(store);
  // The type it was made with, as Wasmtime reports it (not the grown size).
  CHECK(tt->min() == 1 && tt->element().kind() == ValKind::FuncRef);
  auto call_elem =
      std::get<Func>(*instance.get(store, "call_elem")).typed<int32_t, int32_t>(store).unwrap();
  CHECK(call_elem.call(store, 0).unwrap() == 42);
  // Slot 1 holds `f`, whose type differs: a signature mismatch trap.
  auto mismatch = call_elem.call(store, 1);
  CHECK(!mismatch && std::get<Trap>(mismatch.err().data).code() == TrapCode::BadSignature);
  t.set(store, 2, std::optional<Func>()).unwrap();
  auto null_call = call_elem.call(store, 2);
  CHECK(std::get<Trap>(null_call.err().data).code() == TrapCode::IndirectCallToNull);
  std::cout << "funcref table: call_indirect ok, mismatch and null trapped" << std::endl;

  // Globals.
  CHECK(g.get(store).f64() == 1.25);
  g.set(store, Val(2.5)).unwrap();
  CHECK(g.get(store).f64() == 2.5);
  CHECK(g.type(store)->is_mutable());
  Global gv = std::get<Global>(*instance.get(store, "gv"));
  CHECK(gv.get(store).i64() == -7);
  CHECK(!gv.type(store)->is_mutable());

  // Exports by index.
  std::cout << "instance exports:";
  for (size_t i = 0;; i++) {
    auto item = instance.get(store, i);
    if (!item) {
      break;
    }
    std::cout << " " << item->first;
  }
  std::cout << std::endl;

  // Memory types of exported memories.
  Memory mem = std::get<Memory>(*instance.get(store, "mem"));
  MemoryType mt = mem.type(store);
  CHECK(mt->min() == 1 && mt->max() == std::optional<uint64_t>(2));

  // Store data.
  CHECK(!store.context().get_data().has_value());
  store.context().set_data(std::string("user data"));
  CHECK(std::any_cast<std::string>(store.context().get_data()) == "user data");
  store.context().set_data(17);
  CHECK(std::any_cast<int>(store.context().get_data()) == 17);
  // ... reachable from a host function through its caller.
  Func reads_data = Func::wrap(store, [](Caller caller) -> int32_t {
    return std::any_cast<int>(caller.context().get_data());
  });
  CHECK(reads_data.call(store, {}).unwrap()[0].i32() == 17);

  // Values.
  Val v32(int32_t(-1));
  CHECK(v32.kind() == ValKind::I32 && v32.i32() == -1);
  Val vf(1.5f);
  CHECK(vf.kind() == ValKind::F32 && vf.f32() == 1.5f);
  V128 lanes;
  lanes.v128[0] = 9;
  Val vv(lanes);
  CHECK(vv.kind() == ValKind::V128 && vv.v128().v128[0] == 9 && vv.v128().v128[15] == 0);
  ValType vt(ValKind::ExternRef);
  CHECK(vt->kind() == ValKind::ExternRef);
  std::cout << "kinds: " << ValKind::I32 << " " << ValKind::V128 << " " << ValKind::FuncRef
            << std::endl;

  // A store limiter caps memory growth.
  Store limited(engine);
  limited.limiter(2 * 65536, -1, -1, -1, -1);
  Memory lm = Memory::create(limited, MemoryType(1)).unwrap();
  CHECK(lm.grow(limited, 1).unwrap() == 1);
  CHECK(!lm.grow(limited, 1));
  std::cout << "limiter enforced" << std::endl;
  return 0;
}
