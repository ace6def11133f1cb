//! Typed function references through the embedding API: typed funcref globals and tables,
//! `call_ref` on functions the host passes in, subtyping in import matching and value checks.

use wasmjit::*;

/// `(func (param i32) (result i32))`, the type the tests' modules call through.
fn unary() -> FuncType {
    FuncType::from_types([ValType::I32], [ValType::I32])
}

fn typed_ref(nullable: bool, ty: FuncType) -> RefType {
    RefType::new(nullable, HeapType::ConcreteFunc(ty))
}

const MODULE: &str = r#"
(module
  (type $t (func (param i32) (result i32)))
  (func $double (type $t) local.get 0 i32.const 2 i32.mul)
  (func $negate (type $t) i32.const 0 local.get 0 i32.sub)
  (elem declare func $double $negate)
  (global $g (export "g") (mut (ref null $t)) (ref.func $double))
  (global $nn (export "nn") (ref $t) (ref.func $negate))
  (table $tab (export "tab") 2 (ref $t) (ref.func $double))
  (func (export "call") (param (ref null $t)) (param i32) (result i32)
    local.get 1 local.get 0 call_ref $t)
  (func (export "call_global") (param i32) (result i32)
    local.get 0 global.get $g call_ref $t)
  (func (export "call_table") (param i32 i32) (result i32)
    local.get 0 local.get 1 table.get $tab call_ref $t)
  (func (export "tail") (param (ref $t)) (result i32)
    i32.const 21 local.get 0 return_call_ref $t)
)
"#;

fn instance() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn typed_global_types_and_values() {
    let (mut store, instance) = instance();
    let g = instance.get_global(&mut store, "g").unwrap();
    let ty = g.ty(&store);
    assert_eq!(ty.mutability(), Mutability::Var);
    assert_eq!(*ty.content(), ValType::Ref(typed_ref(true, unary())));
    assert_eq!(
        ty.content().to_string(),
        "(ref null (func (param i32) (result i32)))"
    );
    let nn = instance.get_global(&mut store, "nn").unwrap();
    assert_eq!(
        *nn.ty(&store).content(),
        ValType::Ref(typed_ref(false, unary()))
    );

    // The value is a function of that type, and its `Val::ty` names the type.
    let f = g.get(&mut store).funcref().unwrap().copied().unwrap();
    assert_eq!(f.ty(&store), unary());
    let v = Val::FuncRef(Some(f));
    assert_eq!(
        v.ty(&store).unwrap(),
        ValType::Ref(typed_ref(false, unary()))
    );
    assert!(v.matches_ty(&store, ty.content()).unwrap());
    assert!(v.matches_ty(&store, &ValType::FUNCREF).unwrap());
    assert!(!v.matches_ty(&store, &ValType::EXTERNREF).unwrap());

    // Null may be stored in the nullable global; a function of another type may not.
    g.set(&mut store, Val::FuncRef(None)).unwrap();
    assert!(g.get(&mut store).funcref().unwrap().is_none());
    let other = Func::wrap(&mut store, |x: i64| x);
    let err = g.set(&mut store, Val::FuncRef(Some(other))).unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    // A host function of the right type may.
    let host = Func::wrap(&mut store, |x: i32| x + 100);
    g.set(&mut store, Val::FuncRef(Some(host))).unwrap();
    let call_global = instance
        .get_typed_func::<i32, i32>(&mut store, "call_global")
        .unwrap();
    assert_eq!(call_global.call(&mut store, 5).unwrap(), 105);

    // Null traps in call_ref with a null reference trap.
    g.set(&mut store, Val::FuncRef(None)).unwrap();
    let err = call_global.call(&mut store, 5).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::NullReference),
        "{err:?}"
    );

    // A global of a non-nullable type can't be created with null.
    let nn_ty = GlobalType::new(ValType::Ref(typed_ref(false, unary())), Mutability::Const);
    assert!(Global::new(&mut store, nn_ty.clone(), Val::FuncRef(None)).is_err());
    assert!(Global::new(&mut store, nn_ty, Val::FuncRef(Some(host))).is_ok());
}

#[test]
fn call_ref_through_the_api() {
    let (mut store, instance) = instance();
    let call = instance.get_func(&mut store, "call").unwrap();
    let host = Func::wrap(&mut store, |x: i32| x * 10);
    let mut results = [Val::I32(0)];
    call.call(
        &mut store,
        &[Val::FuncRef(Some(host)), Val::I32(4)],
        &mut results,
    )
    .unwrap();
    assert_eq!(results[0].unwrap_i32(), 40);

    // A wasm function taken out of the module's own global.
    let negate = instance
        .get_global(&mut store, "nn")
        .unwrap()
        .get(&mut store);
    call.call(&mut store, &[negate, Val::I32(4)], &mut results)
        .unwrap();
    assert_eq!(results[0].unwrap_i32(), -4);

    // A typed view: a `(ref $t)` result reads as `Option<Func>`; a `(ref null $t)` parameter
    // can't be given an arbitrary `Option<Func>` statically.
    assert!(call.typed::<(Option<Func>, i32), i32>(&store).is_err());
    let table_get = Module::new(
        store.engine(),
        r#"(module (type $t (func)) (func $f (type $t)) (elem declare func $f)
             (func (export "f") (result (ref $t)) ref.func $f))"#,
    )
    .unwrap();
    let other = Instance::new(&mut store, &table_get, &[]).unwrap();
    let f = other
        .get_typed_func::<(), Option<Func>>(&mut store, "f")
        .unwrap();
    let got = f.call(&mut store, ()).unwrap().unwrap();
    assert_eq!(got.ty(&store), FuncType::from_types([], []));

    // Null traps; a function of another type is refused before the call.
    let err = call
        .call(&mut store, &[Val::FuncRef(None), Val::I32(4)], &mut results)
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::NullReference),
        "{err:?}"
    );
    let wrong = Func::wrap(&mut store, |x: f32| x);
    let err = call
        .call(
            &mut store,
            &[Val::FuncRef(Some(wrong)), Val::I32(4)],
            &mut results,
        )
        .unwrap_err();
    assert!(err.to_string().contains("argument type mismatch"), "{err}");

    // return_call_ref with a non-nullable parameter.
    let tail = instance.get_func(&mut store, "tail").unwrap();
    assert_eq!(
        tail.ty(&store).param(0),
        Some(ValType::Ref(typed_ref(false, unary())))
    );
    tail.call(&mut store, &[Val::FuncRef(Some(host))], &mut results)
        .unwrap();
    assert_eq!(results[0].unwrap_i32(), 210);
    assert!(tail
        .call(&mut store, &[Val::FuncRef(None)], &mut results)
        .is_err());
}

#[test]
fn typed_table_from_wasm_and_host() {
    let (mut store, instance) = instance();
    let tab = instance.get_table(&mut store, "tab").unwrap();
    assert_eq!(*tab.ty(&store).element(), typed_ref(false, unary()));
    // The initializer filled every element.
    let call_table = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "call_table")
        .unwrap();
    assert_eq!(call_table.call(&mut store, (7, 0)).unwrap(), 14);
    assert_eq!(call_table.call(&mut store, (7, 1)).unwrap(), 14);

    let host = Func::wrap(&mut store, |x: i32| x - 1);
    tab.set(&mut store, 1, Ref::Func(Some(host))).unwrap();
    assert_eq!(call_table.call(&mut store, (7, 1)).unwrap(), 6);
    // Null and functions of other types do not fit a `(ref $t)` table.
    assert!(tab.set(&mut store, 1, Ref::Func(None)).is_err());
    let wrong = Func::wrap(&mut store, || {});
    assert!(tab.set(&mut store, 1, Ref::Func(Some(wrong))).is_err());
    assert!(tab.grow(&mut store, 1, Ref::Func(None)).is_err());
    assert_eq!(tab.grow(&mut store, 1, Ref::Func(Some(host))).unwrap(), 2);
    assert_eq!(call_table.call(&mut store, (7, 2)).unwrap(), 6);

    // A host-created typed table.
    let ty = TableType::new(typed_ref(true, unary()), 3, None);
    let t = Table::new(&mut store, ty.clone(), Ref::Func(None)).unwrap();
    assert_eq!(t.ty(&store).element(), ty.element());
    assert!(Table::new(
        &mut store,
        TableType::new(typed_ref(false, unary()), 1, None),
        Ref::Func(None)
    )
    .is_err());
}

#[test]
fn imports_match_by_subtyping() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let host = Func::wrap(&mut store, |x: i32| x);
    // An immutable `(ref $t)` global satisfies an import of `(ref null $t)` and of `funcref`.
    let nn = Global::new(
        &mut store,
        GlobalType::new(ValType::Ref(typed_ref(false, unary())), Mutability::Const),
        Val::FuncRef(Some(host)),
    )
    .unwrap();
    let importer = |content: &str| {
        format!(
            r#"(module (type $t (func (param i32) (result i32)))
                 (global (import "m" "g") {content}))"#
        )
    };
    for content in ["(ref $t)", "(ref null $t)", "funcref", "(ref func)"] {
        let module = Module::new(&engine, importer(content)).unwrap();
        Instance::new(&mut store, &module, &[nn.into()])
            .unwrap_or_else(|e| panic!("{content}: {e:#}"));
    }
    // Not the other way round, and not for another type or a mutable global.
    let nullable = Global::new(
        &mut store,
        GlobalType::new(ValType::Ref(typed_ref(true, unary())), Mutability::Const),
        Val::FuncRef(None),
    )
    .unwrap();
    let module = Module::new(&engine, importer("(ref $t)")).unwrap();
    assert!(Instance::new(&mut store, &module, &[nullable.into()]).is_err());
    let module = Module::new(
        &engine,
        r#"(module (type $u (func (result i64))) (global (import "m" "g") (ref null $u)))"#,
    )
    .unwrap();
    assert!(Instance::new(&mut store, &module, &[nn.into()]).is_err());
    let module = Module::new(&engine, importer("(mut (ref null $t))")).unwrap();
    let mutable = Global::new(
        &mut store,
        GlobalType::new(ValType::Ref(typed_ref(false, unary())), Mutability::Var),
        Val::FuncRef(Some(host)),
    )
    .unwrap();
    assert!(Instance::new(&mut store, &module, &[mutable.into()]).is_err());
}

#[test]
fn structurally_equal_types_are_equal_across_modules() {
    let engine = Engine::default();
    let a = Module::new(
        &engine,
        r#"(module (type $s (func)) (type $t (func (param (ref $s))))
             (func (export "f") (type $t)))"#,
    )
    .unwrap();
    let b = Module::new(
        &engine,
        r#"(module (type $x (func (param i32))) (type $s (func)) (type $t (func (param (ref $s))))
             (import "a" "f" (func (type $t))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let ia = Instance::new(&mut store, &a, &[]).unwrap();
    let f = ia.get_func(&mut store, "f").unwrap();
    Instance::new(&mut store, &b, &[f.into()]).unwrap();
    let param = f.ty(&store).param(0).unwrap();
    assert_eq!(
        param,
        ValType::Ref(typed_ref(false, FuncType::from_types([], [])))
    );
}

#[test]
fn function_references_switch() {
    let wat = r#"(module (type $t (func)) (func (param (ref null $t)) local.get 0 call_ref $t))"#;
    Module::new(&Engine::default(), wat).unwrap();
    let mut config = Config::new();
    config.wasm_function_references(false);
    let err = Module::new(&Engine::new(&config).unwrap(), wat).unwrap_err();
    assert!(
        format!("{err:#}").contains("wasm_function_references"),
        "{err:#}"
    );
}

#[test]
fn gc_only_constructs_are_rejected() {
    let engine = Engine::default();
    for wat in [
        r#"(module (type $t (func (result (ref null $t)))))"#,
        r#"(module (rec (type (func)) (type (func))))"#,
        r#"(module (type (sub (func))))"#,
        r#"(module (type (struct)))"#,
        r#"(module (func (local anyref)))"#,
        r#"(module (func ref.null any drop))"#,
        r#"(module (global anyref (ref.null any)))"#,
        r#"(module (func (param funcref) (result (ref func)) local.get 0 ref.cast (ref func)))"#,
        r#"(module (func (param i32) (result i32) local.get 0 ref.i31 i31.get_s))"#,
    ] {
        assert!(Module::new(&engine, wat).is_err(), "{wat} compiled");
        // The same with a constant `global.get` of a defined global, which makes the
        // validator apply GC's rules: the GC constructs must still be refused.
        let with_global_get = format!(
            "(module (global $a i32 (i32.const 1)) (global i32 (global.get $a)) {}",
            wat.strip_prefix("(module").unwrap()
        );
        assert!(
            Module::new(&engine, &with_global_get).is_err(),
            "{with_global_get} compiled"
        );
        let binary = wat::parse_str(&with_global_get).unwrap();
        assert!(
            Module::validate(&engine, &binary).is_err(),
            "{with_global_get} validated"
        );
    }
    // What Wasm 3.0 allows without GC: `global.get` of an earlier defined global.
    let module = Module::new(
        &engine,
        r#"(module (global $a i32 (i32.const 7)) (global (export "b") i32 (global.get $a)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let b = instance.get_global(&mut store, "b").unwrap();
    assert_eq!(b.get(&mut store).unwrap_i32(), 7);
}

/// An endless `return_call_ref` cycle: no loop and constant stack, so only the checks at calls
/// and function entries can stop it.
const ENDLESS: &str = r#"
(module
  (type $t (func (param i32)))
  (func $f (type $t) (local.get 0) (i32.const 1) (i32.add) (ref.func $f) (return_call_ref $t))
  (elem declare func $f)
  (func (export "run") (call $f (i32.const 0)))
)
"#;

/// Endless loops whose only back edge is `br_on_null` (`$null`) or `br_on_non_null`
/// (`$non_null`): the checks on edges into a loop must cover these branches too.
const ENDLESS_BR_ON: &str = r#"
(module
  (type $t (func))
  (func $f)
  (elem declare func $f)
  (func (export "null")
    (loop $l
      (br_on_null $l (ref.null $t))
      (drop)))
  (func (export "non_null")
    (ref.func $f)
    (loop $l (param (ref null $t))
      (br_on_non_null $l)
      (unreachable)))
)
"#;

/// Calls each of `exports` (no params, no results) of `wat` with 10 000 units of fuel: each
/// must trap with `OutOfFuel` and leave the tank empty.
fn assert_runs_out_of_fuel(wat: &str, exports: &[&str]) {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    for name in exports {
        store.set_fuel(10_000).unwrap();
        let run = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
        let err = run.call(&mut store, ()).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::OutOfFuel),
            "{name}: {err:?}"
        );
        assert_eq!(store.get_fuel().unwrap(), 0, "{name}");
    }
}

/// Calls each of `exports` of `wat` with an epoch deadline one tick away and a thread that
/// ticks after 50 ms: each must trap with `Interrupt`.
fn assert_interrupted_by_the_epoch(wat: &str, exports: &[&str]) {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    for name in exports {
        store.set_epoch_deadline(1);
        let run = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
        let ticker = {
            let engine = engine.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                engine.increment_epoch();
            })
        };
        let err = run.call(&mut store, ()).unwrap_err();
        ticker.join().unwrap();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::Interrupt),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn endless_call_ref_cycle_runs_out_of_fuel() {
    assert_runs_out_of_fuel(ENDLESS, &["run"]);
}

#[test]
fn endless_call_ref_cycle_is_interrupted_by_the_epoch() {
    assert_interrupted_by_the_epoch(ENDLESS, &["run"]);
}

#[test]
fn endless_br_on_null_loops_run_out_of_fuel() {
    assert_runs_out_of_fuel(ENDLESS_BR_ON, &["null", "non_null"]);
}

#[test]
fn endless_br_on_null_loops_are_interrupted_by_the_epoch() {
    assert_interrupted_by_the_epoch(ENDLESS_BR_ON, &["null", "non_null"]);
}
