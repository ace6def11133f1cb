/* wasm.h references and reflection, the way the standard C API's own examples use them: host
 * references (wasm_foreign_t) with host info passed through a global, a table and a function;
 * references of every object kind (as_ref/copy/same/host info); extern types taken apart. */
#include "check.h"

static wasm_module_t *module_from_wat(wasm_store_t *store, const char *wat) {
  wasm_byte_vec_t bin;
  expect_ok(wasmtime_wat2wasm(wat, strlen(wat), &bin), "wat2wasm");
  wasm_module_t *module = wasm_module_new(store, &bin);
  wasm_byte_vec_delete(&bin);
  CHECK(module != NULL);
  return module;
}

static int callbacks;
/* Hands its reference argument back. */
static wasm_trap_t *echo(const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  callbacks++;
  wasm_val_copy(&results->data[0], &args->data[0]);
  return NULL;
}

/* Calls `func` with up to two arguments; returns its reference result (owned) or NULL. */
static wasm_ref_t *call(const wasm_func_t *func, wasm_val_t *args, size_t nargs,
                        size_t nresults) {
  wasm_val_t results[1] = {WASM_INIT_VAL};
  wasm_val_vec_t args_vec = {nargs, args};
  wasm_val_vec_t results_vec = {nresults, results};
  wasm_trap_t *trap = wasm_func_call(func, &args_vec, &results_vec);
  CHECK(trap == NULL);
  if (nresults == 0) {
    return NULL;
  }
  CHECK(results[0].kind == WASM_EXTERNREF);
  return results[0].of.ref;
}

/* Checks that `actual` (owned, deleted here) is the reference `expected`. */
static void expect_ref(wasm_ref_t *actual, const wasm_ref_t *expected) {
  if (expected == NULL) {
    CHECK(actual == NULL);
    return;
  }
  CHECK(actual != NULL);
  CHECK(wasm_ref_same(actual, expected));
  /* Host info belongs to the handle it was set on, not to new handles of the object. */
  CHECK(wasm_ref_get_host_info(actual) == NULL);
  wasm_ref_delete(actual);
}

static int finalized;
static void finalize(void *info) { finalized += (int)(intptr_t)info; }

static void test_host_references(wasm_engine_t *engine) {
  wasm_store_t *store = wasm_store_new(engine);
  wasm_module_t *module = module_from_wat(
      store, "(module"
             "  (import \"\" \"echo\" (func $echo (param externref) (result externref)))"
             "  (global $g (export \"global\") (mut externref) (ref.null extern))"
             "  (table $t (export \"table\") 10 externref)"
             "  (func (export \"global.set\") (param externref) (global.set $g (local.get 0)))"
             "  (func (export \"global.get\") (result externref) (global.get $g))"
             "  (func (export \"table.set\") (param i32 externref)"
             "    (table.set $t (local.get 0) (local.get 1)))"
             "  (func (export \"table.get\") (param i32) (result externref)"
             "    (table.get $t (local.get 0)))"
             "  (func (export \"func.call\") (param externref) (result externref)"
             "    (call $echo (local.get 0))))");
  wasm_functype_t *echo_ty =
      wasm_functype_new_1_1(wasm_valtype_new(WASM_EXTERNREF), wasm_valtype_new(WASM_EXTERNREF));
  wasm_func_t *echo_func = wasm_func_new(store, echo_ty, echo);
  wasm_functype_delete(echo_ty);
  wasm_extern_t *imports_data[] = {wasm_func_as_extern(echo_func)};
  wasm_extern_vec_t imports = WASM_ARRAY_VEC(imports_data);
  wasm_instance_t *instance = wasm_instance_new(store, module, &imports, NULL);
  CHECK(instance != NULL);
  wasm_func_delete(echo_func);
  wasm_module_delete(module);

  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  CHECK(exports.size == 7);
  wasm_global_t *global = wasm_extern_as_global(exports.data[0]);
  wasm_table_t *table = wasm_extern_as_table(exports.data[1]);
  const wasm_func_t *global_set = wasm_extern_as_func_const(exports.data[2]);
  const wasm_func_t *global_get = wasm_extern_as_func_const(exports.data[3]);
  const wasm_func_t *table_set = wasm_extern_as_func_const(exports.data[4]);
  const wasm_func_t *table_get = wasm_extern_as_func_const(exports.data[5]);
  const wasm_func_t *func_call = wasm_extern_as_func_const(exports.data[6]);
  CHECK(global && table && global_set && global_get && table_set && table_get && func_call);
  wasm_instance_delete(instance);

  /* Host references with host info. */
  wasm_ref_t *host1 = wasm_foreign_as_ref(wasm_foreign_new(store));
  wasm_ref_t *host2 = wasm_foreign_as_ref(wasm_foreign_new(store));
  wasm_ref_set_host_info(host1, (void *)1);
  wasm_ref_set_host_info_with_finalizer(host2, (void *)2, finalize);
  CHECK(wasm_ref_get_host_info(host1) == (void *)1);
  CHECK(!wasm_ref_same(host1, host2));
  expect_ref(wasm_ref_copy(host1), host1);
  CHECK(wasm_ref_get_host_info(host1) == (void *)1);
  CHECK(wasm_ref_as_foreign_const(host1) != NULL);
  CHECK(wasm_ref_as_func_const(host1) == NULL);

  wasm_val_t val = WASM_REF_VAL(wasm_ref_copy(host1));
  wasm_val_t copy;
  wasm_val_copy(&copy, &val);
  expect_ref(copy.of.ref, host1);
  wasm_val_delete(&val);

  /* Through a global, from wasm and from the host. */
  expect_ref(call(global_get, NULL, 0, 1), NULL);
  wasm_val_t arg = WASM_REF_VAL(host1);
  call(global_set, &arg, 1, 0);
  expect_ref(call(global_get, NULL, 0, 1), host1);
  arg.of.ref = NULL;
  call(global_set, &arg, 1, 0);
  expect_ref(call(global_get, NULL, 0, 1), NULL);
  val.kind = WASM_EXTERNREF;
  val.of.ref = host2;
  wasm_global_set(global, &val);
  expect_ref(call(global_get, NULL, 0, 1), host2);
  wasm_global_get(global, &val);
  CHECK(val.kind == WASM_EXTERNREF);
  expect_ref(val.of.ref, host2);

  /* Through a table. */
  wasm_val_t args2[2] = {WASM_I32_VAL(0), WASM_REF_VAL(host1)};
  call(table_set, args2, 2, 0);
  args2[0].of.i32 = 1;
  args2[1].of.ref = host2;
  call(table_set, args2, 2, 0);
  wasm_val_t index = WASM_I32_VAL(0);
  expect_ref(call(table_get, &index, 1, 1), host1);
  index.of.i32 = 1;
  expect_ref(call(table_get, &index, 1, 1), host2);
  expect_ref(wasm_table_get(table, 2), NULL);
  CHECK(wasm_table_set(table, 2, host1));
  index.of.i32 = 2;
  expect_ref(call(table_get, &index, 1, 1), host1);
  expect_ref(wasm_table_get(table, 2), host1);
  CHECK(!wasm_table_set(table, 10, host1));
  CHECK(wasm_table_get(table, 10) == NULL);
  CHECK(wasm_table_size(table) == 10);
  CHECK(wasm_table_grow(table, 2, host2));
  CHECK(wasm_table_size(table) == 12);
  expect_ref(wasm_table_get(table, 11), host2);

  /* Through a host function. */
  arg.of.ref = NULL;
  expect_ref(call(func_call, &arg, 1, 1), NULL);
  arg.of.ref = host1;
  expect_ref(call(func_call, &arg, 1, 1), host1);
  arg.of.ref = host2;
  expect_ref(call(func_call, &arg, 1, 1), host2);
  CHECK(callbacks == 3);

  wasm_ref_delete(host1);
  CHECK(finalized == 0);
  wasm_ref_delete(host2);
  CHECK(finalized == 2);
  wasm_extern_vec_delete(&exports);
  wasm_store_delete(store);
  printf("host references: global, table and function round trips\n");
}

/* Every object kind converts to a reference and back, copies, compares and carries host info. */
static void test_object_references(wasm_engine_t *engine) {
  wasm_store_t *store = wasm_store_new(engine);
  wasm_module_t *module = module_from_wat(
      store, "(module (func (export \"f\") (param i32) (result i32) local.get 0)"
             "  (global (export \"g\") (mut i64) (i64.const 7))"
             "  (table (export \"t\") 1 funcref)"
             "  (memory (export \"m\") 1 2))");
  wasm_instance_t *instance = wasm_instance_new(store, module, NULL, NULL);
  CHECK(instance != NULL);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  CHECK(exports.size == 4);

  wasm_func_t *func = wasm_extern_as_func(exports.data[0]);
  wasm_global_t *global = wasm_extern_as_global(exports.data[1]);
  wasm_table_t *table = wasm_extern_as_table(exports.data[2]);
  wasm_memory_t *memory = wasm_extern_as_memory(exports.data[3]);
  CHECK(func && global && table && memory);
  CHECK(wasm_extern_as_memory_const(exports.data[3]) == memory);
  CHECK(wasm_extern_as_global_const(exports.data[1]) == global);
  CHECK(wasm_extern_as_table_const(exports.data[2]) == table);
  CHECK(wasm_func_as_extern_const(func) == exports.data[0]);
  CHECK(wasm_global_as_extern(global) == exports.data[1]);
  CHECK(wasm_table_as_extern_const(table) == exports.data[2]);
  CHECK(wasm_memory_as_extern(memory) == exports.data[3]);

  /* Copies are the same object; host info belongs to the handle it is set on. */
  wasm_func_t *func2 = wasm_func_copy(func);
  CHECK(wasm_func_same(func, func2));
  wasm_global_t *global2 = wasm_global_copy(global);
  CHECK(wasm_global_same(global, global2));
  wasm_table_t *table2 = wasm_table_copy(table);
  CHECK(wasm_table_same(table, table2));
  wasm_memory_t *memory2 = wasm_memory_copy(memory);
  CHECK(wasm_memory_same(memory, memory2));
  CHECK(!wasm_memory_same(memory, (const wasm_memory_t *)memory2) == false);
  wasm_extern_t *ext2 = wasm_extern_copy(exports.data[1]);
  CHECK(wasm_extern_same(ext2, exports.data[1]));
  CHECK(wasm_extern_kind(ext2) == WASM_EXTERN_GLOBAL);
  wasm_extern_delete(ext2);

  finalized = 0;
  wasm_func_set_host_info_with_finalizer(func2, (void *)10, finalize);
  wasm_global_set_host_info_with_finalizer(global2, (void *)20, finalize);
  wasm_table_set_host_info_with_finalizer(table2, (void *)40, finalize);
  wasm_memory_set_host_info_with_finalizer(memory2, (void *)80, finalize);
  wasm_instance_set_host_info_with_finalizer(instance, (void *)100, finalize);
  wasm_module_set_host_info(module, (void *)3);
  CHECK(wasm_func_get_host_info(func2) == (void *)10);
  CHECK(wasm_global_get_host_info(global2) == (void *)20);
  CHECK(wasm_table_get_host_info(table2) == (void *)40);
  CHECK(wasm_memory_get_host_info(memory2) == (void *)80);
  CHECK(wasm_instance_get_host_info(instance) == (void *)100);
  CHECK(wasm_module_get_host_info(module) == (void *)3);
  wasm_func_set_host_info(func, (void *)5);
  CHECK(wasm_func_get_host_info(func) == (void *)5);
  wasm_extern_set_host_info(exports.data[1], (void *)6);
  CHECK(wasm_extern_get_host_info(exports.data[1]) == (void *)6);
  wasm_func_delete(func2);
  wasm_global_delete(global2);
  wasm_table_delete(table2);
  wasm_memory_delete(memory2);
  CHECK(finalized == 150);

  /* References of each kind, and back. */
  wasm_ref_t *ref = wasm_func_as_ref(func);
  CHECK(ref != NULL && wasm_ref_as_func(ref) == func);
  CHECK(wasm_ref_as_func_const(wasm_func_as_ref_const(func)) == func);
  CHECK(wasm_ref_as_global(wasm_global_as_ref(global)) == global);
  CHECK(wasm_ref_as_global_const(wasm_global_as_ref_const(global)) == global);
  CHECK(wasm_ref_as_table(wasm_table_as_ref(table)) == table);
  CHECK(wasm_ref_as_table_const(wasm_table_as_ref_const(table)) == table);
  CHECK(wasm_ref_as_memory(wasm_memory_as_ref(memory)) == memory);
  CHECK(wasm_ref_as_memory_const(wasm_memory_as_ref_const(memory)) == memory);
  CHECK(wasm_ref_as_instance(wasm_instance_as_ref(instance)) == instance);
  CHECK(wasm_ref_as_instance_const(wasm_instance_as_ref_const(instance)) == instance);
  CHECK(wasm_ref_as_module(wasm_module_as_ref(module)) == module);
  CHECK(wasm_ref_as_module_const(wasm_module_as_ref_const(module)) == module);
  CHECK(wasm_ref_as_extern(wasm_extern_as_ref(exports.data[0])) == exports.data[0]);
  CHECK(wasm_ref_as_extern_const(wasm_extern_as_ref_const(exports.data[0])) ==
        exports.data[0]);
  CHECK(wasm_ref_as_global(ref) == NULL);
  wasm_ref_t *ref2 = wasm_ref_copy(ref);
  CHECK(wasm_ref_same(ref, ref2));
  wasm_ref_delete(ref2);
  wasm_trap_t *trap = wasmtime_trap_new("x", 1);
  CHECK(wasm_ref_as_trap(wasm_trap_as_ref(trap)) == trap);
  CHECK(wasm_ref_as_trap_const(wasm_trap_as_ref_const(trap)) == trap);
  wasm_trap_set_host_info(trap, (void *)9);
  CHECK(wasm_trap_get_host_info(trap) == (void *)9);
  CHECK(wasm_trap_same(trap, trap));
  wasm_trap_t *trap2 = wasm_trap_copy(trap);
  wasm_message_t msg;
  wasm_trap_message(trap2, &msg);
  CHECK(msg.size == 2 && msg.data[0] == 'x');
  wasm_byte_vec_delete(&msg);
  wasm_trap_delete(trap2);
  wasm_trap_delete(trap);

  /* The function works through its copy's vector form. */
  wasm_val_t a[1] = {WASM_I32_VAL(11)};
  wasm_val_t r[1] = {WASM_INIT_VAL};
  wasm_val_vec_t av = WASM_ARRAY_VEC(a), rv = WASM_ARRAY_VEC(r);
  CHECK(wasm_func_call(func, &av, &rv) == NULL && r[0].of.i32 == 11);

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  CHECK(finalized == 250);
  wasm_module_delete(module);
  wasm_store_delete(store);
  printf("object references: as_ref, copy, same and host info for every kind\n");
}

/* Extern types taken apart and built back, as reflection programs do. */
static void test_reflection(wasm_engine_t *engine) {
  wasm_store_t *store = wasm_store_new(engine);
  wasm_module_t *module = module_from_wat(
      store, "(module"
             "  (import \"env\" \"f\" (func (param i32 f64) (result i64)))"
             "  (import \"env\" \"g\" (global (mut f32)))"
             "  (func (export \"func\") (param i32 i64) (result i64 i32)"
             "    local.get 1 local.get 0)"
             "  (global (export \"global\") i64 (i64.const 1))"
             "  (table (export \"table\") 2 9 funcref)"
             "  (memory (export \"memory\") 1 5))");
  wasm_exporttype_vec_t exports;
  wasm_module_exports(module, &exports);
  CHECK(exports.size == 4);
  wasm_exporttype_vec_t exports2;
  wasm_exporttype_vec_copy(&exports2, &exports);
  CHECK(exports2.size == 4);
  const char *names[] = {"func", "global", "table", "memory"};
  for (size_t i = 0; i < exports.size; i++) {
    const wasm_name_t *name = wasm_exporttype_name(exports2.data[i]);
    CHECK(name->size == strlen(names[i]) && memcmp(name->data, names[i], name->size) == 0);
    const wasm_externtype_t *ty = wasm_exporttype_type(exports.data[i]);
    switch (wasm_externtype_kind(ty)) {
    case WASM_EXTERN_FUNC: {
      const wasm_functype_t *ft = wasm_externtype_as_functype_const(ty);
      CHECK(ft != NULL && wasm_externtype_as_globaltype_const(ty) == NULL);
      CHECK(wasm_functype_params(ft)->size == 2 && wasm_functype_results(ft)->size == 2);
      CHECK(wasm_valtype_kind(wasm_functype_results(ft)->data[0]) == WASM_I64);
      CHECK(wasm_functype_as_externtype_const(ft) != NULL);
      break;
    }
    case WASM_EXTERN_GLOBAL: {
      const wasm_globaltype_t *gt = wasm_externtype_as_globaltype_const(ty);
      CHECK(wasm_valtype_kind(wasm_globaltype_content(gt)) == WASM_I64);
      CHECK(wasm_globaltype_mutability(gt) == WASM_CONST);
      CHECK(wasm_globaltype_as_externtype_const(gt) != NULL);
      break;
    }
    case WASM_EXTERN_TABLE: {
      const wasm_tabletype_t *tt = wasm_externtype_as_tabletype_const(ty);
      CHECK(wasm_tabletype_limits(tt)->min == 2 && wasm_tabletype_limits(tt)->max == 9);
      CHECK(wasm_valtype_kind(wasm_tabletype_element(tt)) == WASM_FUNCREF);
      CHECK(wasm_tabletype_as_externtype_const(tt) != NULL);
      break;
    }
    case WASM_EXTERN_MEMORY: {
      const wasm_memorytype_t *mt = wasm_externtype_as_memorytype_const(ty);
      CHECK(wasm_memorytype_limits(mt)->min == 1 && wasm_memorytype_limits(mt)->max == 5);
      CHECK(wasm_memorytype_as_externtype_const(mt) != NULL);
      break;
    }
    default:
      CHECK(0);
    }
  }
  wasm_exporttype_vec_delete(&exports2);
  wasm_exporttype_vec_delete(&exports);

  wasm_importtype_vec_t imports;
  wasm_module_imports(module, &imports);
  CHECK(imports.size == 2);
  wasm_importtype_t *imp = wasm_importtype_copy(imports.data[1]);
  CHECK(wasm_importtype_module(imp)->size == 3);
  CHECK(memcmp(wasm_importtype_name(imp)->data, "g", 1) == 0);
  wasm_externtype_t *ext = wasm_externtype_copy(wasm_importtype_type(imp));
  wasm_globaltype_t *gt = wasm_externtype_as_globaltype(ext);
  CHECK(gt != NULL && wasm_globaltype_mutability(gt) == WASM_VAR);
  CHECK(wasm_valtype_kind(wasm_globaltype_content(gt)) == WASM_F32);
  wasm_externtype_delete(ext);
  wasm_importtype_delete(imp);
  wasm_importtype_vec_delete(&imports);

  /* Types built by the host, owned by vectors and types made from them. */
  wasm_name_t mod_name, item_name;
  wasm_name_new_from_string(&mod_name, "host");
  wasm_name_new_from_string_nt(&item_name, "mem");
  CHECK(item_name.size == 4 && item_name.data[3] == 0);
  wasm_limits_t limits = {1, 3};
  wasm_importtype_t *built = wasm_importtype_new(
      &mod_name, &item_name, wasm_memorytype_as_externtype(wasm_memorytype_new(&limits)));
  CHECK(wasm_externtype_kind(wasm_importtype_type(built)) == WASM_EXTERN_MEMORY);
  wasm_importtype_delete(built);
  wasm_name_t export_name;
  wasm_name_new_from_string(&export_name, "tab");
  wasm_exporttype_t *built_export = wasm_exporttype_new(
      &export_name, wasm_tabletype_as_externtype(
                        wasm_tabletype_new(wasm_valtype_new(WASM_EXTERNREF), &limits)));
  CHECK(wasm_externtype_kind(wasm_exporttype_type(built_export)) == WASM_EXTERN_TABLE);
  wasm_exporttype_t *export_copy = wasm_exporttype_copy(built_export);
  wasm_exporttype_delete(built_export);
  CHECK(wasm_exporttype_name(export_copy)->size == 3);
  wasm_exporttype_delete(export_copy);

  wasm_valtype_vec_t params, params_copy;
  wasm_valtype_t *ps[] = {wasm_valtype_new_i32(), wasm_valtype_new_f64()};
  wasm_valtype_vec_new(&params, 2, ps);
  wasm_valtype_vec_copy(&params_copy, &params);
  wasm_valtype_vec_t results;
  wasm_valtype_vec_new_empty(&results);
  wasm_functype_t *ft = wasm_functype_new(&params, &results);
  CHECK(wasm_functype_params(ft)->size == 2 && wasm_functype_results(ft)->size == 0);
  wasm_functype_vec_t fts;
  wasm_functype_t *ft_items[] = {ft};
  wasm_functype_vec_new(&fts, 1, ft_items);
  wasm_functype_vec_t fts_copy;
  wasm_functype_vec_copy(&fts_copy, &fts);
  CHECK(fts_copy.size == 1 && wasm_functype_params(fts_copy.data[0])->size == 2);
  wasm_functype_vec_delete(&fts_copy);
  wasm_functype_vec_delete(&fts);
  CHECK(params_copy.size == 2 && wasm_valtype_kind(params_copy.data[1]) == WASM_F64);
  wasm_valtype_vec_delete(&params_copy);

  wasm_val_vec_t vals;
  wasm_val_t items[2] = {WASM_I32_VAL(1), WASM_F64_VAL(2.5)};
  wasm_val_vec_new(&vals, 2, items);
  wasm_val_vec_t vals_copy;
  wasm_val_vec_copy(&vals_copy, &vals);
  CHECK(vals_copy.size == 2 && vals_copy.data[1].of.f64 == 2.5);
  wasm_val_vec_delete(&vals_copy);
  wasm_val_vec_delete(&vals);
  wasm_val_vec_new_empty(&vals);
  CHECK(vals.size == 0);
  wasm_val_vec_delete(&vals);
  wasm_byte_vec_t bytes;
  wasm_byte_vec_new_empty(&bytes);
  CHECK(bytes.size == 0);
  wasm_byte_vec_delete(&bytes);

  wasm_module_delete(module);
  wasm_store_delete(store);
  printf("reflection: export and import types taken apart and built\n");
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  test_host_references(engine);
  test_object_references(engine);
  test_reflection(engine);
  wasm_engine_delete(engine);
  CHECK(finalized == 250);
  DONE("hostref");
  return 0;
}
