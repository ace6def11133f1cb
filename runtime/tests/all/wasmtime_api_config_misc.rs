//! Configuration calls and small API pieces Wasmtime programs commonly use.

use wasmjit as wasmtime;

use wasmtime::{
    Config, Engine, Instance, Module, Precompiled, Store, Strategy, Val, ValType,
    WasmBacktraceDetails,
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

#[test]
fn engine_getters_report_the_config() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config
        .async_stack_size(1 << 20)
        .async_stack_zeroing(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(256 * 1024)
        .memory_reservation(1 << 24)
        .memory_guard_size(1 << 16)
        .parallel_compilation(false)
        .relaxed_simd_deterministic(true)
        .cranelift_nan_canonicalization(true)
        .cranelift_opt_level(wasmtime::OptLevel::SpeedAndSize)
        .allocation_strategy(wasmtime::PoolingAllocationConfig::new());
    // SAFETY: both settings only change what the verifier and code generation check.
    unsafe {
        config.cranelift_flag_enable("enable_verifier");
        config.cranelift_flag_set("enable_heap_access_spectre_mitigation", "false");
    }
    let engine = Engine::new(&config)?;
    assert_eq!(engine.get_async_stack_size(), 1 << 20);
    assert!(engine.get_async_stack_zeroing());
    assert!(engine.get_consume_fuel());
    assert!(engine.get_epoch_interruption());
    assert_eq!(engine.get_max_wasm_stack(), 256 * 1024);
    assert_eq!(engine.get_memory_reservation(), 1 << 24);
    assert_eq!(engine.get_memory_guard_size(), 1 << 16);
    assert!(!engine.get_parallel_compilation());
    assert!(engine.get_relaxed_simd_deterministic());
    assert_eq!(engine.get_cranelift_nan_canonicalization(), Some(true));
    assert_eq!(
        engine.get_cranelift_opt_level(),
        Some(wasmtime::OptLevel::SpeedAndSize)
    );
    assert_eq!(engine.get_cranelift_debug_verifier(), Some(true));
    assert_eq!(
        engine.get_cranelift_flags_enabled().collect::<Vec<_>>(),
        ["enable_verifier"]
    );
    assert_eq!(
        engine.get_cranelift_flags_set().collect::<Vec<_>>(),
        [("enable_heap_access_spectre_mitigation", "false")]
    );
    assert!(engine.get_pooling_config().is_some());
    assert_eq!(engine.get_strategy(), Some(Strategy::Cranelift));
    assert!(!engine.is_pulley());
    let target = engine.get_target().unwrap();
    assert!(target.starts_with(std::env::consts::ARCH), "{target}");

    let defaults = Engine::default();
    assert!(!defaults.get_consume_fuel());
    assert_eq!(defaults.get_memory_reservation(), 1 << 32);
    assert_eq!(defaults.get_max_wasm_stack(), 512 * 1024);
    assert_eq!(defaults.get_cranelift_debug_verifier(), Some(false));
    assert_eq!(defaults.get_cranelift_flags_enabled().count(), 0);
    assert!(defaults.get_pooling_config().is_none());
    let features = defaults.get_wasm_features();
    assert!(features.contains(wasmtime::WasmFeatures::SIMD));
    assert!(!features.contains(wasmtime::WasmFeatures::EXCEPTIONS));
    Ok(())
}

#[test]
fn wasm_features_turns_proposals_on_and_off() -> wasmtime::Result<()> {
    use wasmtime::WasmFeatures;
    let mut config = Config::new();
    config.wasm_features(WasmFeatures::SIMD | WasmFeatures::MULTI_VALUE, false);
    config.wasm_features(WasmFeatures::EXCEPTIONS, true);
    // Not implemented: stays off.
    config.wasm_features(WasmFeatures::STACK_SWITCHING, true);
    let engine = Engine::new(&config)?;
    let features = engine.get_wasm_features();
    assert!(!features.contains(WasmFeatures::SIMD));
    assert!(features.contains(WasmFeatures::EXCEPTIONS));
    assert!(!features.contains(WasmFeatures::STACK_SWITCHING));
    let simd = "(module (func (result v128) v128.const i64x2 0 0))";
    assert!(Module::new(&engine, simd).is_err());
    assert!(Module::new(&Engine::default(), simd).is_ok());
    Module::new(&engine, "(module (tag) (func throw 0))")?;
    Ok(())
}

#[test]
fn memory_type_builder_checks_what_it_builds() -> wasmtime::Result<()> {
    let ty = wasmtime::MemoryType::builder()
        .min(2)
        .max(Some(5))
        .build()?;
    assert_eq!(ty, wasmtime::MemoryType::new(2, Some(5)));
    assert_eq!(ty.page_size_log2(), 16);
    let ty = wasmtime::MemoryTypeBuilder::new()
        .memory64(true)
        .min(1 << 40)
        .build()?;
    assert!(ty.is_64());
    assert_eq!(ty.minimum(), 1 << 40);
    let err = wasmtime::MemoryTypeBuilder::new()
        .min(3)
        .max(Some(2))
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "maximum page size cannot be smaller than the minimum page size"
    );
    let err = wasmtime::MemoryTypeBuilder::new()
        .min(65537)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "minimum size is too large for this memory type's index type"
    );
    assert!(wasmtime::MemoryTypeBuilder::new()
        .page_size_log2(12)
        .build()
        .is_err());
    assert!(wasmtime::MemoryTypeBuilder::new()
        .shared(true)
        .build()
        .is_err());
    Ok(())
}

#[test]
fn vals_to_and_from_raw() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let f = wasmtime::Func::wrap(&mut store, |x: i32| x + 1);
    let e = wasmtime::ExternRef::new(&mut store, 7u32)?;
    let cases = [
        (Val::I32(-3), ValType::I32),
        (Val::I64(1 << 40), ValType::I64),
        (Val::F32(1.5f32.to_bits()), ValType::F32),
        (Val::F64(2.5f64.to_bits()), ValType::F64),
        (
            Val::V128(wasmtime::V128::from(u128::MAX - 1)),
            ValType::V128,
        ),
    ];
    for (val, ty) in cases {
        let raw = val.to_raw(&mut store)?;
        // SAFETY: `raw` came from a value of type `ty`.
        let back = unsafe { Val::from_raw(&mut store, raw, ty) };
        assert_eq!(format!("{back:?}"), format!("{val:?}"));
    }
    let raw = Val::FuncRef(Some(f)).to_raw(&mut store)?;
    assert_eq!(raw.get_funcref(), f.to_raw(&mut store));
    // SAFETY: a funcref of this store.
    let back = unsafe { Val::from_raw(&mut store, raw, ValType::FUNCREF) };
    let mut result = [Val::I32(0)];
    let back = *back.unwrap_funcref().unwrap();
    back.call(&mut store, &[Val::I32(1)], &mut result)?;
    assert_eq!(result[0].unwrap_i32(), 2);
    let raw = Val::ExternRef(Some(e)).to_raw(&mut store)?;
    assert_eq!(raw.get_externref(), e.to_raw(&mut store)?);
    // SAFETY: an externref of this store.
    let back = unsafe { Val::from_raw(&mut store, raw, ValType::EXTERNREF) };
    let back = back.unwrap_externref().unwrap();
    assert_eq!(back.data(&store)?.unwrap().downcast_ref::<u32>(), Some(&7));
    // Null in, null out; a reference of another store is refused.
    let raw = Val::null_func_ref().to_raw(&mut store)?;
    // SAFETY: null is a funcref of every store.
    assert!(unsafe { Val::from_raw(&mut store, raw, ValType::FUNCREF) }
        .unwrap_funcref()
        .is_none());
    let mut other = Store::new(&engine, ());
    assert!(Val::FuncRef(Some(f)).to_raw(&mut other).is_err());
    Ok(())
}

#[test]
fn type_equality_heap_type_predicates_and_ref_types() -> wasmtime::Result<()> {
    use wasmtime::{FuncType, HeapType, Ref, RefType};
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    assert!(ValType::eq(&ValType::I32, &ValType::I32));
    assert!(!ValType::eq(&ValType::I32, &ValType::I64));
    assert!(RefType::eq(&RefType::FUNCREF, &RefType::FUNCREF));
    assert!(!RefType::eq(&RefType::FUNCREF, &RefType::EXTERNREF));
    let a = FuncType::new(&engine, [ValType::I32], [ValType::I64]);
    let b = FuncType::new(&engine, [ValType::I32], [ValType::I64]);
    assert!(FuncType::eq(&a, &b));
    assert!(!FuncType::eq(&a, &FuncType::new(&engine, [], [])));
    let concrete = HeapType::ConcreteFunc(a.clone());
    assert!(HeapType::eq(&concrete, &HeapType::ConcreteFunc(b)));
    assert!(concrete.is_concrete_func() && !HeapType::Func.is_concrete_func());
    assert_eq!(concrete.unwrap_concrete_func().params().len(), 1);
    assert!(HeapType::NoFunc.is_no_func() && !HeapType::Func.is_no_func());
    assert!(HeapType::NoExn.is_no_exn() && !HeapType::Exn.is_no_exn());

    let f = wasmtime::Func::wrap(&mut store, |x: i32| x as i64);
    let r = Ref::Func(Some(f));
    let ty = r.ty(&store)?;
    assert!(!ty.is_nullable());
    assert!(FuncType::eq(ty.heap_type().unwrap_concrete_func(), &a));
    assert!(r.matches_ty(&store, &RefType::FUNCREF)?);
    assert!(!r.matches_ty(&store, &RefType::EXTERNREF)?);
    let null = Ref::Extern(None);
    assert!(null.ty(&store)?.heap_type().is_extern() && null.ty(&store)?.is_nullable());
    assert!(!null.matches_ty(&store, &RefType::new(false, HeapType::Extern))?);

    // SAFETY: `f` takes an i32 and returns an i64.
    let typed = unsafe { wasmtime::TypedFunc::<i32, i64>::new_unchecked(&store, f) };
    assert_eq!(typed.call(&mut store, 9)?, 9);
    assert_eq!(wasmtime::ModuleVersionStrategy::None.as_str(), "");
    assert_eq!(
        wasmtime::ModuleVersionStrategy::Custom("v9".into()).as_str(),
        "v9"
    );
    Ok(())
}

#[test]
fn linker_try_get_by_import_and_async_externrefs() -> wasmtime::Result<()> {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module (import "a" "f" (func)) (import "a" "g" (func)))"#,
    )?;
    let mut linker = wasmtime::Linker::new(&engine);
    linker.func_wrap("a", "f", || {})?;
    let imports: Vec<_> = module.imports().collect();
    assert!(linker
        .try_get_by_import(&mut store, &imports[0])?
        .and_then(|e| e.into_func())
        .is_some());
    assert!(linker.try_get_by_import(&mut store, &imports[1])?.is_none());

    let r = {
        let future = std::pin::pin!(wasmtime::ExternRef::new_async(&mut store, 5u8));
        match future.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(r) => r,
            Poll::Pending => panic!("allocating an externref does not wait"),
        }
    };
    let r = r?;
    assert_eq!(r.data(&store)?.unwrap().downcast_ref::<u8>(), Some(&5));
    Ok(())
}

#[test]
fn fuel_and_epoch_settings_through_contexts() -> wasmtime::Result<()> {
    use wasmtime::{AsContext, AsContextMut, Caller, Func, Trap};
    let mut config = Config::new();
    config.consume_fuel(true).epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000)?;
    assert_eq!(store.as_context().get_fuel()?, 1_000);
    store.as_context_mut().fuel_async_yield_interval(Some(10))?;
    assert!(store
        .as_context_mut()
        .fuel_async_yield_interval(Some(0))
        .is_err());
    let set_interval = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| {
        caller.fuel_async_yield_interval(None).is_ok() as i32
    });
    store.set_epoch_deadline(1);
    assert_eq!(
        set_interval
            .typed::<(), i32>(&store)?
            .call(&mut store, ())?,
        1
    );

    let module = Module::new(&engine, r#"(module (func (export "spin") (loop br 0)))"#)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    store.set_fuel(u64::MAX / 2)?;
    let mut cx = store.as_context_mut();
    cx.epoch_deadline_async_yield_and_update(1);
    cx.epoch_deadline_trap();
    cx.set_epoch_deadline(0);
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    Ok(())
}
