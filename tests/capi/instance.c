/* Instances: imports by position, exports by name and index, start functions. */
#include "check.h"

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *ctx = wasmtime_store_context(store);

  /* An exporter, whose items are imported by another module. */
  wasmtime_module_t *producer = compile_wat(
      engine,
      "(module"
      "  (func (export \"f\") (result i32) i32.const 11)"
      "  (global (export \"g\") (mut i32) (i32.const 3))"
      "  (table (export \"t\") 2 funcref)"
      "  (memory (export \"m\") 1))");
  wasmtime_instance_t prod;
  wasm_trap_t *trap = NULL;
  expect_ok(wasmtime_instance_new(ctx, producer, NULL, 0, &prod, &trap), "producer");

  /* Exports by index, in order, with names. */
  const char *names[] = {"f", "g", "t", "m"};
  const wasmtime_extern_kind_t kinds[] = {WASMTIME_EXTERN_FUNC, WASMTIME_EXTERN_GLOBAL,
                                          WASMTIME_EXTERN_TABLE, WASMTIME_EXTERN_MEMORY};
  wasmtime_extern_t items[4];
  for (size_t i = 0; i < 4; i++) {
    char *name = NULL;
    size_t len = 0;
    CHECK(wasmtime_instance_export_nth(ctx, &prod, i, &name, &len, &items[i]));
    CHECK(len == 1 && name[0] == names[i][0]);
    CHECK(items[i].kind == kinds[i]);
    wasm_externtype_t *ty = wasmtime_extern_type(ctx, &items[i]);
    CHECK(wasm_externtype_kind(ty) == i);
    wasm_externtype_delete(ty);
  }
  char *name;
  size_t len;
  wasmtime_extern_t item;
  CHECK(!wasmtime_instance_export_nth(ctx, &prod, 4, &name, &len, &item));
  CHECK(!wasmtime_instance_export_get(ctx, &prod, "zz", 2, &item));
  CHECK(wasmtime_instance_export_get(ctx, &prod, "g", 1, &item));
  /* The same item has the same handle. */
  CHECK(item.of.global.store_id == items[1].of.global.store_id);
  CHECK(item.of.global.__private == items[1].of.global.__private);
  wasmtime_extern_delete(&item);

  /* A consumer whose start function uses every import. */
  wasmtime_module_t *consumer = compile_wat(
      engine,
      "(module"
      "  (import \"p\" \"f\" (func $f (result i32)))"
      "  (import \"p\" \"g\" (global $g (mut i32)))"
      "  (import \"p\" \"t\" (table $t 2 funcref))"
      "  (import \"p\" \"m\" (memory $m 1))"
      "  (func $start"
      "    (global.set $g (i32.add (global.get $g) (call $f)))"
      "    (i32.store (i32.const 8) (global.get $g))"
      "    (table.set $t (i32.const 1) (ref.func $f)))"
      "  (start $start)"
      "  (elem declare func $f))");
  wasmtime_instance_t cons;
  expect_ok(wasmtime_instance_new(ctx, consumer, items, 4, &cons, &trap), "consumer");
  CHECK(trap == NULL);
  wasmtime_val_t v;
  wasmtime_global_get(ctx, &items[1].of.global, &v);
  CHECK(v.kind == WASMTIME_I32 && v.of.i32 == 14);
  CHECK(wasmtime_memory_data(ctx, &items[3].of.memory)[8] == 14);
  CHECK(wasmtime_table_get(ctx, &items[2].of.table, 1, &v));
  CHECK(v.kind == WASMTIME_FUNCREF && !wasmtime_funcref_is_null(&v.of.funcref));
  wasmtime_val_t r;
  expect_ok(wasmtime_func_call(ctx, &v.of.funcref, NULL, 0, &r, 1, &trap), "call from table");
  CHECK(r.of.i32 == 11);

  /* Wrong number or type of imports: errors. */
  CHECK(error_contains(wasmtime_instance_new(ctx, consumer, items, 3, &cons, &trap), "import"));
  wasmtime_extern_t swapped[4] = {items[1], items[0], items[2], items[3]};
  wasmtime_error_t *err = wasmtime_instance_new(ctx, consumer, swapped, 4, &cons, &trap);
  CHECK(err != NULL && trap == NULL);
  wasmtime_error_delete(err);

  /* A handle of another store is rejected. */
  wasmtime_store_t *other = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *octx = wasmtime_store_context(other);
  CHECK(error_contains(wasmtime_instance_new(octx, consumer, items, 4, &cons, &trap), "wrong store"));
  wasmtime_store_delete(other);

  /* A start function that traps: the trap comes back, not an error. */
  wasmtime_module_t *bad_start = compile_wat(engine, "(module (func $s unreachable) (start $s))");
  expect_ok(wasmtime_instance_new(ctx, bad_start, NULL, 0, &cons, &trap), "bad start");
  CHECK(trap != NULL);
  wasmtime_trap_code_t code;
  CHECK(wasmtime_trap_code(trap, &code) && code == WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED);
  wasm_trap_delete(trap);

  wasmtime_module_delete(producer);
  wasmtime_module_delete(consumer);
  wasmtime_module_delete(bad_start);
  wasmtime_store_delete(store);
  wasm_engine_delete(engine);
  DONE("instance");
  return 0;
}
