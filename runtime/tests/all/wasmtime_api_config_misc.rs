//! Configuration calls and small API pieces Wasmtime programs commonly use.

use wasmjit as wasmtime;

use wasmtime::{
    Config, Engine, Instance, Module, Precompiled, Store, Strategy, ValType, WasmBacktraceDetails,
};

#[test]
fn common_config_calls_compile_and_work() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config
        .strategy(Strategy::Cranelift)
        .wasm_backtrace(true)
        .wasm_backtrace_details(WasmBacktraceDetails::Enable)
        .debug_info(false)
        .cranelift_debug_verifier(true)
        .cranelift_opt_level(wasmtime::OptLevel::SpeedAndSize)
        .native_unwind_info(true)
        .generate_address_map(true)
        .memory_init_cow(true)
        .coredump_on_trap(false)
        .wasm_multi_value(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_simd(true)
        .parallel_compilation(false)
        .max_wasm_stack(1 << 20);
    let engine = Engine::new(&config)?;
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "m") 1)
            (func (export "f") (param i32) (result i32)
              (i32.add (local.get 0) (i32.const 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let f = instance.get_typed_func::<i32, i32>(&mut store, "f")?;
    assert_eq!(f.call(&mut store, 41)?, 42);
    let m = instance.get_memory(&mut store, "m").unwrap();
    assert_eq!(m.page_size(&store), 65536);
    assert_eq!(m.page_size_log2(&store), 16);
    assert_eq!(
        m.data_size(&store) as u64,
        m.size(&store) * m.page_size(&store)
    );
    Ok(())
}

#[test]
fn detect_precompiled_artifacts() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let wasm = wat::parse_str("(module)")?;
    let artifact = engine.precompile_module(&wasm)?;
    assert_eq!(
        Engine::detect_precompiled(&artifact),
        Some(Precompiled::Module)
    );
    assert_eq!(Engine::detect_precompiled(&wasm), None);
    assert_eq!(Engine::detect_precompiled(b""), None);
    let path = std::env::temp_dir().join(format!("wasmjit-detect-{}.cwasm", std::process::id()));
    std::fs::write(&path, &artifact)?;
    assert_eq!(
        Engine::detect_precompiled_file(&path)?,
        Some(Precompiled::Module)
    );
    std::fs::remove_file(&path)?;
    assert!(Engine::detect_precompiled_file(&path).is_err());
    Ok(())
}

#[test]
fn valtype_predicates() {
    assert!(ValType::I32.is_i32() && !ValType::I32.is_i64());
    assert!(ValType::I64.is_i64());
    assert!(ValType::F32.is_f32() && ValType::F64.is_f64() && ValType::V128.is_v128());
    assert!(ValType::FUNCREF.is_funcref() && !ValType::FUNCREF.is_externref());
    assert!(ValType::EXTERNREF.is_externref());
    assert!(ValType::EXTERNREF.unwrap_ref().is_nullable());
    let non_null = ValType::Ref(wasmtime::RefType::new(false, wasmtime::HeapType::Func));
    assert!(!non_null.is_funcref());
    assert!(ValType::eq(&ValType::I32, &ValType::I32));
    assert!(non_null.matches(&ValType::FUNCREF));
    assert!(!ValType::FUNCREF.matches(&non_null));
}

#[test]
fn engines_modules_and_pre_instances_are_shared_across_threads() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "id" (func $id (result i32)))
            (func (export "run") (result i32) (i32.mul (call $id) (i32.const 10))))"#,
    )?;
    let mut linker: wasmtime::Linker<i32> = wasmtime::Linker::new(&engine);
    linker.func_wrap("host", "id", |caller: wasmtime::Caller<'_, i32>| {
        *caller.data()
    })?;
    let pre = std::sync::Arc::new(linker.instantiate_pre(&module)?);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let engine = engine.clone();
            let pre = pre.clone();
            std::thread::spawn(move || -> wasmtime::Result<i32> {
                let mut store = Store::new(&engine, i);
                let instance = pre.instantiate(&mut store)?;
                let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
                run.call(&mut store, ())
            })
        })
        .collect();
    let results: Vec<i32> = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect::<wasmtime::Result<_>>()?;
    assert_eq!(results, [0, 10, 20, 30]);
    // A store moves to another thread with its instances.
    let mut store = Store::new(&engine, 7);
    let instance = linker.instantiate(&mut store, &module)?;
    let out = std::thread::spawn(move || {
        let run = instance
            .get_typed_func::<(), i32>(&mut store, "run")
            .unwrap();
        run.call(&mut store, ()).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(out, 70);
    Ok(())
}

#[test]
fn ref_and_val_helpers_and_gc() -> wasmtime::Result<()> {
    let mut store = Store::<()>::default();
    let f = wasmtime::Func::wrap(&mut store, || {});
    let e = wasmtime::ExternRef::new(&mut store, 5u8)?;
    let rf = wasmtime::Ref::from(f);
    let re = wasmtime::Ref::from(e);
    assert!(rf.is_func() && !rf.is_extern());
    assert!(re.is_extern() && !re.is_null());
    assert!(rf.unwrap_func().is_some());
    assert!(re.unwrap_extern().is_some());
    let vf = wasmtime::Val::from(f);
    assert!(vf.unwrap_funcref().is_some());
    assert!(vf.is_ref());
    assert!(vf.ref_().unwrap().is_func());
    assert!(wasmtime::Val::I32(1).ref_().is_none());
    let ve = wasmtime::Val::ExternRef(Some(e));
    assert_eq!(
        ve.unwrap_externref()
            .unwrap()
            .data(&store)?
            .unwrap()
            .downcast_ref::<u8>(),
        Some(&5)
    );
    assert_eq!(wasmtime::Val::V128(7u128.into()).unwrap_v128().as_u128(), 7);
    store.gc(None)?;
    assert!(e.data(&store).is_ok());
    Ok(())
}
