//! GC's types and its heap-free references through the embedding API: recursion groups and
//! their canonical equality across modules, declared subtypes at link time and at
//! `call_indirect`/`ref.test`, the internal hierarchy's heap types, and `i31` references
//! crossing between wasm and the host.

use wasmjit::*;

fn gc_engine() -> Engine {
    let mut config = Config::new();
    config.wasm_gc(true);
    Engine::new(&config).unwrap()
}

/// Instantiates `importer` against the exports of `exporter`, in one store.
fn link(engine: &Engine, exporter: &str, importer: &str) -> Result<Instance> {
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    let first = Module::new(engine, exporter)?;
    let instance = linker.instantiate(&mut store, &first)?;
    linker.instance(&mut store, "m", instance)?;
    let second = Module::new(engine, importer)?;
    linker.instantiate(&mut store, &second)
}

#[test]
fn gc_types_need_wasm_gc() {
    let wat = "(module (rec (type (func)) (type (struct))))";
    assert!(Module::new(&Engine::default(), wat).is_err());
    Module::new(&gc_engine(), wat).unwrap();
}

#[test]
fn recursion_groups_are_equal_across_modules_by_structure_and_position() {
    let engine = gc_engine();
    let exporter = r#"(module
      (rec (type $f (func)) (type (struct (field (ref $f)))))
      (func (export "f") (type $f)))"#;
    // The same group in another module: the same type.
    link(
        &engine,
        exporter,
        r#"(module
          (rec (type $f (func)) (type (struct (field (ref $f)))))
          (import "m" "f" (func (type $f))))"#,
    )
    .unwrap();
    // A structurally equal function type outside that group is another type.
    let err = link(
        &engine,
        exporter,
        r#"(module (type $f (func)) (import "m" "f" (func (type $f))))"#,
    )
    .unwrap_err();
    assert!(
        format!("{err:?}").contains("incompatible import type"),
        "{err:?}"
    );
}

const SUBTYPES: &str = r#"
  (type $sup (sub (func (result i32))))
  (type $sub (sub $sup (func (result i32))))
"#;

#[test]
fn a_function_of_a_declared_subtype_links_and_is_called_indirectly() {
    let engine = gc_engine();
    let exporter = format!(
        r#"(module {SUBTYPES}
          (func (export "f") (type $sub) i32.const 7))"#
    );
    let importer = format!(
        r#"(module {SUBTYPES}
          (import "m" "f" (func $f (type $sup)))
          (func $g (type $sup) i32.const 8)
          (table funcref (elem $f $g))
          (func (export "call") (param i32) (result i32)
            local.get 0 call_indirect (type $sup))
          (func (export "call_sub") (param i32) (result i32)
            local.get 0 call_indirect (type $sub))
          (func (export "is_sub") (param i32) (result i32)
            local.get 0 table.get 0 ref.test (ref $sub)))"#
    );
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let first = Module::new(&engine, &exporter).unwrap();
    let instance = linker.instantiate(&mut store, &first).unwrap();
    linker.instance(&mut store, "m", instance).unwrap();
    let second = Module::new(&engine, &importer).unwrap();
    let instance = linker.instantiate(&mut store, &second).unwrap();
    let call = instance
        .get_typed_func::<i32, i32>(&mut store, "call")
        .unwrap();
    let call_sub = instance
        .get_typed_func::<i32, i32>(&mut store, "call_sub")
        .unwrap();
    let is_sub = instance
        .get_typed_func::<i32, i32>(&mut store, "is_sub")
        .unwrap();
    // A `$sub` function where `$sup` is expected, and a `$sup` one.
    assert_eq!(call.call(&mut store, 0).unwrap(), 7);
    assert_eq!(call.call(&mut store, 1).unwrap(), 8);
    // Only the `$sub` function is a `$sub`.
    assert_eq!(call_sub.call(&mut store, 0).unwrap(), 7);
    let err = call_sub.call(&mut store, 1).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::BadSignature));
    assert_eq!(is_sub.call(&mut store, 0).unwrap(), 1);
    assert_eq!(is_sub.call(&mut store, 1).unwrap(), 0);
    // Importing a `$sup` function as a `$sub` one fails.
    let err = link(
        &engine,
        &format!(r#"(module {SUBTYPES} (func (export "f") (type $sup) i32.const 1))"#),
        &format!(r#"(module {SUBTYPES} (import "m" "f" (func (type $sub))))"#),
    )
    .unwrap_err();
    assert!(
        format!("{err:?}").contains("incompatible import type"),
        "{err:?}"
    );
}

#[test]
fn the_internal_hierarchy_orders_its_heap_types() {
    assert!(HeapType::I31.matches(&HeapType::Eq));
    assert!(HeapType::Eq.matches(&HeapType::Any));
    assert!(HeapType::None.matches(&HeapType::I31));
    assert!(HeapType::Struct.matches(&HeapType::Any));
    assert!(!HeapType::Any.matches(&HeapType::Eq));
    assert!(!HeapType::I31.matches(&HeapType::Struct));
    assert!(!HeapType::Any.matches(&HeapType::Extern));
    assert_eq!(HeapType::I31.top(), HeapType::Any);
    assert_eq!(HeapType::Array.bottom(), HeapType::None);
    assert_eq!(ValType::ANYREF.to_string(), "anyref");
    assert_eq!(
        ValType::Ref(RefType::new(false, HeapType::I31)).to_string(),
        "(ref i31)"
    );
}

#[test]
fn an_immutable_anyref_global_import_takes_a_nullref_global() {
    let engine = gc_engine();
    link(
        &engine,
        r#"(module (global (export "g") nullref (ref.null none)))"#,
        r#"(module (import "m" "g" (global anyref)))"#,
    )
    .unwrap();
    let err = link(
        &engine,
        r#"(module (global (export "g") anyref (ref.null any)))"#,
        r#"(module (import "m" "g" (global eqref)))"#,
    )
    .unwrap_err();
    assert!(
        format!("{err:?}").contains("incompatible import type"),
        "{err:?}"
    );
}

#[test]
fn i31_references_cross_between_wasm_and_the_host() {
    let engine = gc_engine();
    let module = Module::new(
        &engine,
        r#"(module
          (global $g (export "g") (mut i31ref) (ref.i31 (i32.const -3)))
          (func (export "new") (param i32) (result (ref i31)) local.get 0 ref.i31)
          (func (export "get_s") (param i31ref) (result i32) local.get 0 i31.get_s)
          (func (export "get_u") (param i31ref) (result i32) local.get 0 i31.get_u)
          (func (export "eq") (param eqref eqref) (result i32)
            local.get 0 local.get 1 ref.eq))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let new = instance.get_func(&mut store, "new").unwrap();
    let mut out = [Val::I32(0)];
    new.call(&mut store, &[Val::I32(-5)], &mut out).unwrap();
    let any = out[0].unwrap_anyref().copied().expect("non-null");
    assert_eq!(any.unwrap_i31(&store).unwrap().get_i32(), -5);
    assert_eq!(any.unwrap_i31(&store).unwrap().get_u32(), 0x7fff_fffb);

    let get_s = instance.get_func(&mut store, "get_s").unwrap();
    let get_u = instance.get_func(&mut store, "get_u").unwrap();
    let host = AnyRef::from_i31(&mut store, I31::wrapping_i32(-2));
    get_s.call(&mut store, &[host.into()], &mut out).unwrap();
    assert_eq!(out[0].unwrap_i32(), -2);
    get_u.call(&mut store, &[host.into()], &mut out).unwrap();
    assert_eq!(out[0].unwrap_i32(), 0x7fff_fffe);
    let err = get_u
        .call(&mut store, &[Val::AnyRef(None)], &mut out)
        .unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::NullReference));

    let eq = instance.get_func(&mut store, "eq").unwrap();
    let same = AnyRef::from_i31(&mut store, I31::wrapping_u32(9));
    eq.call(&mut store, &[host.into(), host.into()], &mut out)
        .unwrap();
    assert_eq!(out[0].unwrap_i32(), 1);
    eq.call(&mut store, &[host.into(), same.into()], &mut out)
        .unwrap();
    assert_eq!(out[0].unwrap_i32(), 0);

    let g = instance.get_global(&mut store, "g").unwrap();
    let value = g.get(&mut store);
    let value = value.unwrap_anyref().expect("non-null");
    assert_eq!(value.unwrap_i31(&store).unwrap().get_i32(), -3);
    g.set(&mut store, same.into()).unwrap();
    let value = g.get(&mut store);
    assert_eq!(
        value.unwrap_anyref().unwrap().unwrap_i31(&store).unwrap(),
        I31::new_u32(9).unwrap()
    );
}

#[test]
fn i31_construction_wraps_and_checks_ranges() {
    assert_eq!(I31::wrapping_u32(u32::MAX).get_u32(), 0x7fff_ffff);
    assert_eq!(I31::wrapping_u32(u32::MAX).get_i32(), -1);
    assert_eq!(I31::new_u32(1 << 31), None);
    assert_eq!(I31::new_i32(1 << 30), None);
    assert_eq!(I31::new_i32(-(1 << 30)).unwrap().get_i32(), -(1 << 30));
}

#[test]
fn a_recursive_type_is_displayed_without_end() {
    let engine = gc_engine();
    let module = Module::new(
        &engine,
        r#"(module
          (rec (type $t (func (param (ref null $t)))))
          (func (export "f") (type $t)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    let shown = f.ty(&store).to_string();
    assert!(shown.starts_with("(func (param (ref null (func"), "{shown}");
    assert!(shown.contains("(type #"), "{shown}");
}
