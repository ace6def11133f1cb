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
        engine.detect_precompiled(&artifact),
        Some(Precompiled::Module)
    );
    assert_eq!(engine.detect_precompiled(&wasm), None);
    assert_eq!(engine.detect_precompiled(b""), None);
    let path = std::env::temp_dir().join(format!("wasmjit-detect-{}.cwasm", std::process::id()));
    std::fs::write(&path, &artifact)?;
    assert_eq!(
        engine.detect_precompiled_file(&path)?,
        Some(Precompiled::Module)
    );
    std::fs::remove_file(&path)?;
    assert!(engine.detect_precompiled_file(&path).is_err());
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
