/* The standard wasm.h API: modules, host functions, instances, calls, memories, globals,
 * tables, references, foreign objects, traps and vectors. */
#include "check.h"

static int calls;
static wasm_trap_t *hello(const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  (void)args;
  calls++;
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = 40;
  return NULL;
}

static int env_finalized;
static void finalize_env(void *env) { env_finalized += *(int *)env; }
static wasm_trap_t *add_env(void *env, const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = args->data[0].of.i32 + *(int *)env;
  return NULL;
}

static wasm_store_t *the_store;
static wasm_trap_t *failing(const wasm_val_vec_t *args, wasm_val_vec_t *results) {
  (void)args; (void)results;
  wasm_message_t msg;
  wasm_name_new_from_string_nt(&msg, "no thanks");
  wasm_trap_t *trap = wasm_trap_new(the_store, &msg);
  wasm_name_delete(&msg);
  return trap;
}

static int info_finalized;
static void finalize_info(void *p) { info_finalized += *(int *)p; }

static wasm_module_t *module_from_wat(wasm_store_t *store, const char *wat) {
  wasm_byte_vec_t bin;
  expect_ok(wasmtime_wat2wasm(wat, strlen(wat), &bin), "wat2wasm");
  CHECK(wasm_module_validate(store, &bin));
  wasm_module_t *m = wasm_module_new(store, &bin);
  CHECK(m != NULL);
  wasm_byte_vec_delete(&bin);
  return m;
}

int main(void) {
  wasm_engine_t *engine = wasm_engine_new();
  wasm_store_t *store = wasm_store_new(engine);
  the_store = store;
  wasm_module_t *module = module_from_wat(
      store,
      "(module"
      "  (import \"\" \"hello\" (func $hello (result i32)))"
      "  (import \"\" \"add\" (func $add (param i32) (result i32)))"
      "  (import \"\" \"fail\" (func $fail))"
      "  (memory (export \"mem\") 1 4)"
      "  (global (export \"g\") (mut i64) (i64.const 6))"
      "  (table (export \"tab\") 2 funcref)"
      "  (func (export \"run\") (result i32) (call $add (call $hello)))"
      "  (func (export \"fail\") (call $fail))"
      "  (func (export \"pass\") (param externref) (result externref) local.get 0)"
      "  (func (export \"fref\") (param funcref) (result funcref) local.get 0))");

  wasm_importtype_vec_t imports;
  wasm_module_imports(module, &imports);
  CHECK(imports.size == 3);
  wasm_importtype_vec_delete(&imports);
  wasm_exporttype_vec_t exports;
  wasm_module_exports(module, &exports);
  CHECK(exports.size == 7);
  wasm_exporttype_vec_delete(&exports);

  /* Host functions. */
  wasm_functype_t *hello_ty = wasm_functype_new_0_1(wasm_valtype_new_i32());
  wasm_func_t *hello_fn = wasm_func_new(store, hello_ty, hello);
  static int two = 2;
  wasm_functype_t *add_ty = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_func_t *add_fn = wasm_func_new_with_env(store, add_ty, add_env, &two, finalize_env);
  wasm_functype_t *none_ty = wasm_functype_new_0_0();
  wasm_func_t *fail_fn = wasm_func_new(store, none_ty, failing);
  CHECK(wasm_func_param_arity(add_fn) == 1 && wasm_func_result_arity(add_fn) == 1);
  wasm_functype_t *got = wasm_func_type(hello_fn);
  CHECK(wasm_functype_params(got)->size == 0 && wasm_functype_results(got)->size == 1);
  wasm_functype_delete(got);

  wasm_extern_t *externs[] = {wasm_func_as_extern(hello_fn), wasm_func_as_extern(add_fn),
                              wasm_func_as_extern(fail_fn)};
  wasm_extern_vec_t import_vec = WASM_ARRAY_VEC(externs);
  wasm_trap_t *trap = NULL;
  wasm_instance_t *instance = wasm_instance_new(store, module, &import_vec, &trap);
  CHECK(instance != NULL && trap == NULL);

  wasm_extern_vec_t ex;
  wasm_instance_exports(instance, &ex);
  CHECK(ex.size == 7);
  CHECK(wasm_extern_kind(ex.data[0]) == WASM_EXTERN_MEMORY);
  CHECK(wasm_extern_kind(ex.data[1]) == WASM_EXTERN_GLOBAL);
  CHECK(wasm_extern_kind(ex.data[2]) == WASM_EXTERN_TABLE);
  CHECK(wasm_extern_kind(ex.data[3]) == WASM_EXTERN_FUNC);
  wasm_externtype_t *ety = wasm_extern_type(ex.data[0]);
  CHECK(wasm_externtype_kind(ety) == WASM_EXTERN_MEMORY);
  wasm_externtype_delete(ety);

  /* Calls. */
  wasm_func_t *run = wasm_extern_as_func(ex.data[3]);
  CHECK(run != NULL && wasm_extern_as_memory(ex.data[3]) == NULL);
  wasm_val_t results_arr[1] = {WASM_INIT_VAL};
  wasm_val_vec_t args = WASM_EMPTY_VEC;
  wasm_val_vec_t results = WASM_ARRAY_VEC(results_arr);
  CHECK(wasm_func_call(run, &args, &results) == NULL);
  CHECK(results_arr[0].kind == WASM_I32 && results_arr[0].of.i32 == 42 && calls == 1);
  printf("run() = %d\n", results_arr[0].of.i32);
  /* Calling a host function directly. */
  wasm_val_t add_args_arr[1] = {WASM_I32_VAL(5)};
  wasm_val_vec_t add_args = WASM_ARRAY_VEC(add_args_arr);
  CHECK(wasm_func_call(add_fn, &add_args, &results) == NULL && results_arr[0].of.i32 == 7);
  /* A trap from a host function, through wasm. */
  wasm_func_t *fail = wasm_extern_as_func(ex.data[4]);
  wasm_val_vec_t no_results = WASM_EMPTY_VEC;
  trap = wasm_func_call(fail, &args, &no_results);
  CHECK(trap != NULL);
  CHECK(trap_contains(trap, "no thanks"));
  wasm_trap_delete(trap);
  /* Wrong arguments make a trap too. */
  trap = wasm_func_call(run, &add_args, &results);
  CHECK(trap != NULL);
  wasm_trap_delete(trap);

  /* Memory. */
  wasm_memory_t *mem = wasm_extern_as_memory(ex.data[0]);
  CHECK(wasm_memory_size(mem) == 1 && wasm_memory_data_size(mem) == MEMORY_PAGE_SIZE);
  wasm_memory_data(mem)[10] = 3;
  CHECK(wasm_memory_grow(mem, 2) && wasm_memory_size(mem) == 3);
  CHECK(!wasm_memory_grow(mem, 5));
  CHECK(wasm_memory_data(mem)[10] == 3);
  /* The declared type, as Wasmtime reports it (not the grown size). */
  wasm_memorytype_t *mty = wasm_memory_type(mem);
  CHECK(wasm_memorytype_limits(mty)->min == 1 && wasm_memorytype_limits(mty)->max == 4);
  wasm_memory_t *hmem = wasm_memory_new(store, mty);
  CHECK(hmem != NULL && wasm_memory_size(hmem) == 1);
  wasm_memorytype_delete(mty);
  wasm_memory_delete(hmem);

  /* Globals. */
  wasm_global_t *g = wasm_extern_as_global(ex.data[1]);
  wasm_val_t v;
  wasm_global_get(g, &v);
  CHECK(v.kind == WASM_I64 && v.of.i64 == 6);
  wasm_val_t nv = WASM_I64_VAL(-1);
  wasm_global_set(g, &nv);
  wasm_global_get(g, &v);
  CHECK(v.of.i64 == -1);
  wasm_globaltype_t *gty = wasm_global_type(g);
  CHECK(wasm_globaltype_mutability(gty) == WASM_VAR);
  wasm_globaltype_delete(gty);
  gty = wasm_globaltype_new(wasm_valtype_new_f32(), WASM_CONST);
  wasm_val_t fv = WASM_F32_VAL(2.5f);
  wasm_global_t *hg = wasm_global_new(store, gty, &fv);
  CHECK(hg != NULL);
  wasm_global_get(hg, &v);
  CHECK(v.kind == WASM_F32 && v.of.f32 == 2.5f);
  wasm_val_t wrong = WASM_I32_VAL(1);
  CHECK(wasm_global_new(store, gty, &wrong) == NULL);
  wasm_globaltype_delete(gty);
  wasm_global_delete(hg);

  /* Tables hold function references. */
  wasm_table_t *tab = wasm_extern_as_table(ex.data[2]);
  CHECK(wasm_table_size(tab) == 2);
  CHECK(wasm_table_get(tab, 0) == NULL);
  CHECK(wasm_table_set(tab, 0, wasm_func_as_ref(run)));
  wasm_ref_t *r = wasm_table_get(tab, 0);
  CHECK(r != NULL);
  wasm_func_t *rf = wasm_ref_as_func(r);
  CHECK(rf != NULL && wasm_func_same(rf, run));
  CHECK(wasm_ref_as_global(r) == NULL && wasm_ref_as_trap(r) == NULL);
  CHECK(wasm_func_call(rf, &args, &results) == NULL && results_arr[0].of.i32 == 42);
  wasm_ref_delete(r);
  CHECK(!wasm_table_set(tab, 7, NULL));
  CHECK(wasm_table_grow(tab, 3, wasm_func_as_ref(add_fn)) && wasm_table_size(tab) == 5);
  r = wasm_table_get(tab, 4);
  CHECK(r != NULL && wasm_func_same(wasm_ref_as_func(r), add_fn));
  wasm_ref_delete(r);
  wasm_tabletype_t *tty = wasm_table_type(tab);
  CHECK(wasm_tabletype_limits(tty)->min == 2); /* the declared type, as in Wasmtime */
  wasm_table_t *htab = wasm_table_new(store, tty, NULL);
  CHECK(htab != NULL && wasm_table_size(htab) == 2);
  wasm_tabletype_delete(tty);
  wasm_table_delete(htab);

  /* Funcref values through wasm. */
  wasm_func_t *fref = wasm_extern_as_func(ex.data[6]);
  wasm_val_t fa[1];
  fa[0].kind = WASM_FUNCREF;
  fa[0].of.ref = wasm_func_as_ref(hello_fn);
  wasm_val_vec_t fargs = WASM_ARRAY_VEC(fa);
  wasm_val_t fr[1] = {WASM_INIT_VAL};
  wasm_val_vec_t fres = WASM_ARRAY_VEC(fr);
  CHECK(wasm_func_call(fref, &fargs, &fres) == NULL);
  CHECK(fr[0].kind == WASM_FUNCREF && fr[0].of.ref != NULL);
  CHECK(wasm_func_same(wasm_ref_as_func_const(fr[0].of.ref), hello_fn));
  wasm_val_t fcopy;
  wasm_val_copy(&fcopy, &fr[0]);
  CHECK(wasm_ref_same(fcopy.of.ref, fr[0].of.ref));
  wasm_val_delete(&fcopy);
  wasm_val_delete(&fr[0]);

  /* Foreign objects travel as externrefs and come back the same. */
  wasm_foreign_t *foreign = wasm_foreign_new(store);
  wasm_func_t *pass = wasm_extern_as_func(ex.data[5]);
  wasm_val_t pa[1] = {WASM_REF_VAL(wasm_foreign_as_ref(foreign))};
  wasm_val_vec_t pargs = WASM_ARRAY_VEC(pa);
  wasm_val_t pr[1] = {WASM_INIT_VAL};
  wasm_val_vec_t pres = WASM_ARRAY_VEC(pr);
  CHECK(wasm_func_call(pass, &pargs, &pres) == NULL);
  CHECK(pr[0].kind == WASM_EXTERNREF && pr[0].of.ref != NULL);
  CHECK(wasm_foreign_same(wasm_ref_as_foreign(pr[0].of.ref), foreign));
  wasm_val_delete(&pr[0]);
  pa[0].of.ref = NULL;
  CHECK(wasm_func_call(pass, &pargs, &pres) == NULL && pr[0].of.ref == NULL);

  /* Host info lives on the handle; its finalizer runs when the handle goes. */
  static int nine = 9;
  wasm_foreign_set_host_info_with_finalizer(foreign, &nine, finalize_info);
  CHECK(wasm_foreign_get_host_info(foreign) == &nine);
  wasm_foreign_t *fcopy2 = wasm_foreign_copy(foreign);
  CHECK(wasm_foreign_get_host_info(fcopy2) == NULL && wasm_foreign_same(fcopy2, foreign));
  wasm_foreign_delete(foreign);
  CHECK(info_finalized == 9);
  wasm_ref_t *as_ref = wasm_foreign_as_ref(fcopy2);
  wasm_ref_set_host_info(as_ref, &two);
  CHECK(wasm_ref_get_host_info(as_ref) == &two);
  wasm_foreign_delete(fcopy2);

  /* Instantiation failures report a trap. */
  wasm_module_t *bad = module_from_wat(store, "(module (func $s unreachable) (start $s))");
  trap = NULL;
  CHECK(wasm_instance_new(store, bad, NULL, &trap) == NULL);
  CHECK(trap != NULL && trap_contains(trap, "unreachable"));
  wasm_trap_delete(trap);
  CHECK(wasm_instance_new(store, module, NULL, NULL) == NULL);
  wasm_module_delete(bad);

  /* Modules shared with another store of the engine. */
  wasm_shared_module_t *shared = wasm_module_share(module);
  wasm_store_t *store2 = wasm_store_new(engine);
  wasm_module_t *obtained = wasm_module_obtain(store2, shared);
  CHECK(obtained != NULL && wasm_module_same(obtained, module));
  wasm_module_delete(obtained);
  wasm_shared_module_delete(shared);
  wasm_store_delete(store2);
  wasm_byte_vec_t ser;
  wasm_module_serialize(module, &ser);
  CHECK(ser.size > 0);
  wasm_module_t *loaded = wasm_module_deserialize(store, &ser);
  CHECK(loaded != NULL);
  wasm_exporttype_vec_t ex1, ex2;
  wasm_module_exports(module, &ex1);
  wasm_module_exports(loaded, &ex2);
  CHECK(ex1.size == ex2.size);
  wasm_exporttype_vec_delete(&ex1);
  wasm_exporttype_vec_delete(&ex2);
  wasm_module_delete(loaded);
  ser.data[1] ^= 0xff;
  CHECK(wasm_module_deserialize(store, &ser) == NULL);
  wasm_byte_vec_delete(&ser);

  /* Instances and modules as references. */
  wasm_instance_t *icopy = wasm_instance_copy(instance);
  CHECK(wasm_instance_same(icopy, instance));
  CHECK(wasm_ref_as_instance(wasm_instance_as_ref(icopy)) == icopy);
  CHECK(wasm_ref_as_module_const(wasm_instance_as_ref_const(icopy)) == NULL);
  wasm_ref_t *iref = wasm_ref_copy(wasm_instance_as_ref(icopy));
  CHECK(wasm_ref_same(iref, wasm_instance_as_ref(instance)));
  wasm_ref_delete(iref);
  wasm_instance_delete(icopy);

  /* Vectors. */
  wasm_byte_vec_t bytes, bcopy;
  wasm_byte_vec_new(&bytes, 3, "abc");
  wasm_byte_vec_copy(&bcopy, &bytes);
  CHECK(bcopy.size == 3 && memcmp(bcopy.data, "abc", 3) == 0);
  wasm_byte_vec_delete(&bytes);
  wasm_byte_vec_delete(&bcopy);
  CHECK(bcopy.size == 0 && bcopy.data == NULL);
  wasm_byte_vec_new_uninitialized(&bytes, 4);
  CHECK(bytes.size == 4);
  wasm_byte_vec_delete(&bytes);
  wasm_name_t name;
  wasm_name_new_from_string(&name, "hi");
  CHECK(name.size == 2);
  wasm_name_delete(&name);
  wasm_val_vec_t vals;
  wasm_val_vec_new_uninitialized(&vals, 2);
  vals.data[0].kind = WASM_FUNCREF;
  vals.data[0].of.ref = wasm_func_as_ref(wasm_func_copy(run));
  vals.data[1].kind = WASM_I32;
  vals.data[1].of.i32 = 1;
  wasm_val_vec_t vcopy;
  wasm_val_vec_copy(&vcopy, &vals);
  CHECK(wasm_ref_same(vcopy.data[0].of.ref, vals.data[0].of.ref));
  wasm_val_vec_delete(&vals);
  wasm_val_vec_delete(&vcopy);
  wasm_valtype_vec_t vts;
  wasm_valtype_vec_new_empty(&vts);
  CHECK(vts.size == 0);
  wasm_valtype_vec_delete(&vts);
  wasm_valtype_t *vt = wasm_valtype_new(WASM_EXTERNREF);
  CHECK(wasm_valtype_is_ref(vt) && !wasm_valtype_is_num(vt));
  wasm_valtype_delete(vt);
  CHECK(wasm_valtype_new(77) == NULL);
  wasm_val_t ptrval;
  wasm_val_init_ptr(&ptrval, &two);
  CHECK(wasm_val_ptr(&ptrval) == &two);

  wasm_extern_vec_delete(&ex);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_func_delete(hello_fn);
  wasm_func_delete(add_fn);
  wasm_func_delete(fail_fn);
  wasm_functype_delete(hello_ty);
  wasm_functype_delete(add_ty);
  wasm_functype_delete(none_ty);
  CHECK(env_finalized == 0);
  wasm_store_delete(store);
  CHECK(env_finalized == 2);
  wasm_engine_delete(engine);
  DONE("wasm_api");
  return 0;
}
