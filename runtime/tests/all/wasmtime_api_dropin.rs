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

#[test]
fn code_builder_compiles_configured_input() -> wasmtime::Result<()> {
    use std::path::Path;
    use wasmtime::{CodeBuilder, CodeHint};
    let engine = Engine::default();
    let mut builder = CodeBuilder::new(&engine);
    assert_eq!(builder.hint(), None);
    assert_eq!(
        builder.compile_module().unwrap_err().to_string(),
        "no wasm bytes have been configured"
    );
    let text = br#"(module (func (export "seven") (result i32) i32.const 7))"#;
    builder.wasm_binary_or_text(text, Some(Path::new("seven.wat")))?;
    assert_eq!(builder.hint(), Some(CodeHint::Module));
    assert!(builder.wasm_binary(&b"\0asm"[..], None).is_err());
    builder.dwarf_package(b"")?;
    assert!(builder.dwarf_package(b"").is_err());
    let module = builder.compile_module()?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let seven = instance.get_typed_func::<(), i32>(&mut store, "seven")?;
    assert_eq!(seven.call(&mut store, ())?, 7);
    // Serialized, for `Module::deserialize`.
    let bytes = builder.compile_module_serialized()?;
    // SAFETY: the bytes were just made by this engine.
    let again = unsafe { Module::deserialize(&engine, &bytes) }?;
    assert_eq!(again.exports().len(), 1);
    // From files: a text file, and a component header for the hint.
    let dir = std::env::temp_dir().join(format!("wasmjit-code-builder-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let wat = dir.join("m.wat");
    std::fs::write(&wat, text)?;
    let mut from_file = CodeBuilder::new(&engine);
    from_file.wasm_binary_or_text_file(&wat)?;
    assert_eq!(from_file.compile_module()?.exports().len(), 1);
    let missing = dir.join("missing.wasm");
    let err = CodeBuilder::new(&engine)
        .wasm_binary_file(&missing)
        .err()
        .unwrap();
    assert!(
        err.to_string().starts_with("failed to read input file"),
        "{err}"
    );
    let mut component = CodeBuilder::new(&engine);
    component.wasm_binary(&b"\0asm\x0d\0\x01\0"[..], None)?;
    assert_eq!(component.hint(), Some(CodeHint::Component));
    assert!(component.compile_module().is_err());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn more_config_switches_without_machinery_are_accepted() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config
        .debug_symbols(true)
        .metadata_for_internal_asserts(true)
        .wmemcheck(false)
        .force_memory_init_memfd(true)
        .cranelift_wasmtime_debug_checks(true)
        .emit_clif(std::path::Path::new("/nonexistent"));
    let engine = Engine::new(&config)?;
    // What wasmjit does, whatever was asked.
    assert!(!engine.get_debug_symbols());
    assert!(!engine.get_metadata_for_internal_asserts());
    // Copy-on-write images are on by default (`force_memory_init_memfd` changes nothing).
    assert!(engine.get_memory_init_cow());
    Module::new(&engine, "(module (memory 1) (data (i32.const 0) \"x\"))")?;
    Ok(())
}

#[test]
fn pooling_limits_report_what_was_set_or_wasmtimes_defaults() {
    use wasmtime::{Enabled, PoolingAllocationConfig};
    let mut pool = PoolingAllocationConfig::new();
    assert_eq!(pool.get_total_memories(), 1000);
    assert_eq!(pool.get_max_memory_size(), 1 << 32);
    assert_eq!(pool.get_table_elements(), 20_000);
    assert_eq!(pool.get_max_unused_warm_slots(), 100);
    assert_eq!(pool.get_memory_protection_keys(), Enabled::No);
    pool.total_memories(7)
        .max_memory_size(1 << 20)
        .linear_memory_keep_resident(4096)
        .pagemap_scan(Enabled::Auto)
        .max_tables_per_module(3);
    assert_eq!(pool.get_total_memories(), 7);
    assert_eq!(pool.get_max_memory_size(), 1 << 20);
    assert_eq!(pool.get_memory_keep_resident(), 4096);
    assert_eq!(pool.get_pagemap_scan(), Enabled::Auto);
    assert_eq!(pool.get_max_tables_per_module(), 3);
    assert!(!PoolingAllocationConfig::are_memory_protection_keys_available());
}

#[test]
fn image_and_inlining_settings_report_what_wasmjit_does() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config
        .memory_guaranteed_dense_image_size(1 << 10)
        .compiler_inlining(wasmtime::Inlining::Yes);
    // SAFETY: neither is used by wasmjit; the values are the host's truth anyway.
    unsafe {
        config.detect_host_feature(|_| None).x86_float_abi_ok(false);
    }
    let engine = Engine::new(&config)?;
    assert_eq!(engine.get_memory_guaranteed_dense_image_size(), 1 << 10);
    assert_eq!(
        Engine::default().get_memory_guaranteed_dense_image_size(),
        16 << 20
    );
    assert_eq!(engine.get_compiler_inlining(), wasmtime::Inlining::No);
    let module = Module::new(&engine, "(module (memory 1) (data (i32.const 0) \"x\"))")?;
    module.initialize_copy_on_write_image()?;
    Ok(())
}
