//! Items of Wasmtime 48's API that a core-wasm embedder uses, at Wasmtime's paths and with
//! Wasmtime's signatures (issue 17; `docs/wasmtime-api.md` lists them all): this file is
//! written against Wasmtime's API with `use wasmjit as wasmtime;`.

use wasmjit as wasmtime;

use wasmtime::{
    Collector, Config, Engine, Func, FuncType, HeapType, Instance, Linker, Module,
    ModuleVersionStrategy, Mutability, Ref, RegallocAlgorithm, Store, Trap, Val, ValType,
};

#[test]
fn config_switches_without_machinery_are_accepted() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config
        .collector(Collector::DeferredReferenceCounting)
        .cranelift_regalloc_algorithm(RegallocAlgorithm::SinglePass)
        .wasm_branch_hinting(true);
    config.module_version(ModuleVersionStrategy::Custom("mine".into()))?;
    assert!(config
        .module_version(ModuleVersionStrategy::Custom("x".repeat(256)))
        .is_err());
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, "(module)")?;
    assert!(Module::same(&module, &module.clone()));
    assert!(!Module::same(&module, &Module::new(&engine, "(module)")?));
    // An associated function in Wasmtime 48.
    assert_eq!(Engine::detect_precompiled(b"\0asm\x01\0\0\0"), None);
    Ok(())
}

#[test]
fn types_values_and_results_as_wasmtime_has_them() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::try_new(&engine, ())?;
    assert!(Mutability::Const.is_const() && Mutability::Var.is_var());
    assert!(!Mutability::Var.is_const());

    let unary = FuncType::try_new(&engine, [ValType::I32], [ValType::I32])?;
    assert!(unary.matches(&FuncType::new(&engine, [ValType::I32], [ValType::I32])));
    assert!(!unary.matches(&FuncType::new(&engine, [ValType::I64], [ValType::I32])));

    let concrete = HeapType::ConcreteFunc(unary.clone());
    assert_eq!(concrete.top(), HeapType::Func);
    assert_eq!(concrete.bottom(), HeapType::NoFunc);
    assert!(concrete.is_concrete() && concrete.is_func() && !concrete.is_top());
    assert!(HeapType::NoExtern.is_bottom() && HeapType::Extern.is_top());
    assert!(Ref::null(&HeapType::NoExtern).is_null());
    assert!(matches!(Ref::null(&concrete), Ref::Func(None)));

    let double = Func::try_wrap(&mut store, |x: i32| x * 2)?;
    let same = Func::try_new(&mut store, unary.clone(), |_, args, results| {
        results[0] = Val::I32(args[0].unwrap_i32() * 2);
        Ok(())
    })?;
    assert!(Ref::Func(Some(double)).is_non_null());
    let typed = same.typed::<i32, i32>(&store)?;
    assert_eq!(typed.call(&mut store, 21)?, 42);
    assert!(matches!(Val::I64(1).ty(&store)?, ValType::I64));

    let module = Module::new(
        &engine,
        r#"(module (func (export "f") (param i32) (result i32)
             local.get 0 local.get 0 i32.div_u) (memory (export "m") 1))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[])?;

    // A trap's frames have no DWARF symbols here (as Wasmtime's without details).
    let f = instance.get_typed_func::<i32, i32>(&mut store, "f")?;
    let err = f.call(&mut store, 0).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IntegerDivisionByZero)
    );
    let bt = err.downcast_ref::<wasmtime::WasmBacktrace>().unwrap();
    assert!(bt.frames()[0].symbols().is_empty());

    // `Linker::get` is a `Result`, as in Wasmtime 48.
    let mut linker = Linker::new(&engine);
    linker.instance(&mut store, "inst", instance)?;
    assert!(linker.get(&mut store, "inst", "f")?.into_func().is_some());
    let missing = linker.get(&mut store, "inst", "nothing").unwrap_err();
    assert_eq!(
        missing.to_string(),
        "missing definition for `inst::nothing`"
    );
    Ok(())
}
