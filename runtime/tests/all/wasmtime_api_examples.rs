//! Scenarios of Wasmtime's own Rust examples (tuning, pre-compilation, threads, memories),
//! written against Wasmtime's API with `use wasmjit as wasmtime`.

use wasmjit as wasmtime;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use wasmtime::{
    Cache, Caller, Config, Engine, Global, GlobalType, Instance, InstanceAllocationStrategy,
    Linker, Memory, MemoryType, Module, Mutability, OptLevel, PoolingAllocationConfig, Result,
    Store, Strategy, Val, ValType,
};

#[test]
fn tuned_for_fast_instantiation() -> Result<()> {
    let mut config = Config::new();
    let mut pool = PoolingAllocationConfig::new();
    pool.total_memories(10);
    pool.max_memory_size(1 << 31);
    pool.total_tables(10);
    pool.table_elements(5000);
    pool.total_core_instances(10);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config.memory_init_cow(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("math", "add", |a: u32, b: u32| -> u32 { a + b })?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "math" "add" (func $add (param i32 i32) (result i32)))
            (func (export "run") (result i32) (call $add (i32.const 29) (i32.const 13))))"#,
    )?;
    let instance_pre = linker.instantiate_pre(&module)?;
    let handles: Vec<std::thread::JoinHandle<Result<i32>>> = (0..4)
        .map(|_| {
            let engine = engine.clone();
            let instance_pre = instance_pre.clone();
            std::thread::spawn(move || -> Result<i32> {
                let mut sum = 0;
                for _ in 0..25 {
                    let mut store = Store::new(&engine, ());
                    let instance = instance_pre.instantiate(&mut store)?;
                    sum += instance
                        .get_typed_func::<(), i32>(&mut store, "run")?
                        .call(&mut store, ())?;
                }
                Ok(sum)
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread")?, 25 * 42);
    }
    Ok(())
}

#[test]
fn tuned_for_fast_compilation_and_execution() -> Result<()> {
    let mut config = Config::new();
    config.cache(Some(Cache::from_file(None)?));
    config.strategy(Strategy::Winch);
    config.parallel_compilation(true);
    Engine::new(&config)?;

    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    config.signals_based_traps(true);
    config.memory_reservation(1 << 32);
    config.memory_guard_size(1 << 32);
    config.cranelift_opt_level(OptLevel::SpeedAndSize);
    config.target(std::env::consts::ARCH)?;
    let engine = Engine::new(&config)?;
    let module = Module::new(
        &engine,
        r#"(module (func (export "add") (param i32 i32) (result i32)
            (i32.add (local.get 0) (local.get 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
    assert_eq!(add.call(&mut store, (40, 2))?, 42);

    // Another architecture is refused.
    let other = if cfg!(target_arch = "x86_64") {
        "aarch64"
    } else {
        "x86_64"
    };
    assert!(Config::new().target(other).is_err());
    Ok(())
}

#[test]
fn pre_compiled_modules_through_a_file() -> Result<()> {
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    config.target(std::env::consts::ARCH)?;
    let engine = Engine::new(&config)?;
    let precompiled = engine.precompile_module(
        r#"(module (func (export "add") (param i32 i32) (result i32)
            (i32.add (local.get 0) (local.get 1))))"#
            .as_bytes(),
    )?;
    let path = std::env::temp_dir().join(format!("wasmjit-add-{}.cwasm", std::process::id()));
    std::fs::write(&path, &precompiled)?;
    // SAFETY: the file holds what `precompile_module` produced just above.
    let module = unsafe { Module::deserialize_file(&engine, &path) };
    std::fs::remove_file(&path)?;
    let module = module?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
    assert_eq!(add.call(&mut store, (1, 2))?, 3);
    Ok(())
}

/// threads.rs: one engine and module, a store per thread, a host function and a global
/// created per store and passed to `Instance::new`.
#[test]
fn threads_with_a_store_each() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "hello" (func $hello (param i32)))
            (import "" "id" (global $id i32))
            (func (export "run") (call $hello (global.get $id))))"#,
    )?;
    let seen = Arc::new(AtomicU32::new(0));
    let children: Vec<_> = (0..6)
        .map(|id| {
            let engine = engine.clone();
            let module = module.clone();
            let seen = seen.clone();
            std::thread::spawn(move || -> Result<()> {
                let mut store = Store::new(&engine, ());
                let callback = wasmtime::Func::wrap(&mut store, move |arg: i32| {
                    seen.fetch_add(1 << (arg * 4), Ordering::SeqCst);
                });
                let id_type = GlobalType::new(ValType::I32, Mutability::Const);
                let id_global = Global::new(&mut store, id_type, Val::I32(id))?;
                let instance =
                    Instance::new(&mut store, &module, &[callback.into(), id_global.into()])?;
                let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
                for _ in 0..3 {
                    run.call(&mut store, ())?;
                }
                Ok(())
            })
        })
        .collect();
    for child in children {
        child.join().expect("thread")?;
    }
    // Three calls from each of the six threads, each counted in its own nibble.
    assert_eq!(seen.load(Ordering::SeqCst), 0x333333);
    Ok(())
}

/// multimemory.rs: two memories, read and grown from the host and from wasm.
#[test]
fn multiple_memories() -> Result<()> {
    let mut config = Config::new();
    config.wasm_multi_memory(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "memory0") 2 3)
            (memory (export "memory1") 2 4)
            (func (export "load1") (param i32) (result i32) (i32.load8_s 1 (local.get 0)))
            (func (export "store1") (param i32 i32) (i32.store8 1 (local.get 0) (local.get 1)))
            (func (export "size1") (result i32) (memory.size 1))
            (data (memory 1) (i32.const 0x1000) "\04\03\02\01"))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory0 = instance.get_memory(&mut store, "memory0").unwrap();
    let memory1 = instance.get_memory(&mut store, "memory1").unwrap();
    let load1 = instance.get_typed_func::<i32, i32>(&mut store, "load1")?;
    let store1 = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store1")?;
    let size1 = instance.get_typed_func::<(), i32>(&mut store, "size1")?;
    assert_eq!(memory0.data(&store)[0x1000], 0);
    assert_eq!(memory1.data(&store)[0x1000], 4);
    assert_eq!(load1.call(&mut store, 0x1003)?, 1);
    memory1.data_mut(&mut store)[0x1003] = 5;
    store1.call(&mut store, (0x1002, 6))?;
    assert_eq!(memory1.data(&store)[0x1002..0x1004], [6, 5]);
    assert!(store1.call(&mut store, (0x20000, 0)).is_err());
    assert_eq!(memory0.grow(&mut store, 1)?, 2);
    assert!(memory0.grow(&mut store, 1).is_err());
    assert_eq!(memory1.grow(&mut store, 2)?, 2);
    assert_eq!(size1.call(&mut store, ())?, 4);
    assert_eq!(memory1.data_size(&store), 4 << 16);
    let standalone = Memory::new(&mut store, MemoryType::new(5, Some(5)))?;
    assert_eq!(standalone.size(&store), 5);
    Ok(())
}

/// hello.rs: store data read by a host function through its `Caller`.
#[test]
fn host_state_through_the_caller() -> Result<()> {
    struct MyState {
        name: String,
        count: usize,
    }
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "host_func" (func $host_hello (param i32)))
            (func (export "hello") i32.const 3 call $host_hello))"#,
    )?;
    let mut store = Store::new(
        &engine,
        MyState {
            name: "hello, world!".to_string(),
            count: 0,
        },
    );
    let host_func =
        wasmtime::Func::wrap(&mut store, |mut caller: Caller<'_, MyState>, param: i32| {
            assert_eq!(caller.data().name, "hello, world!");
            caller.data_mut().count += param as usize;
        });
    let instance = Instance::new(&mut store, &module, &[host_func.into()])?;
    let hello = instance.get_typed_func::<(), ()>(&mut store, "hello")?;
    hello.call(&mut store, ())?;
    hello.call(&mut store, ())?;
    assert_eq!(store.data().count, 6);
    Ok(())
}

/// Settings Wasmtime programs call that need no machinery here are accepted; the ones that
/// read a file still check it.
#[test]
fn config_settings_without_machinery_are_accepted() -> Result<()> {
    let mut config = Config::new();
    config
        .memory_may_move(false)
        .memory_reservation_for_growth(1 << 20)
        .guard_before_linear_memory(true)
        .table_lazy_init(false)
        .wasm_backtrace_max_frames(std::num::NonZeroUsize::new(20))
        .macos_use_mach_ports(false)
        .wasm_threads(false)
        .wasm_gc(false)
        .wasm_component_model(false)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false)
        .allocation_strategy(InstanceAllocationStrategy::OnDemand)
        .allocation_strategy(InstanceAllocationStrategy::pooling())
        .disable_cache();
    config.cache_config_load_default()?;
    let missing = std::env::temp_dir().join("wasmjit-no-such-cache-config.toml");
    assert!(config.cache_config_load(&missing).is_err());
    assert!(Cache::from_file(Some(&missing)).is_err());
    let engine = Engine::new(&config)?;
    // The engine works as usual.
    let module = Module::new(
        &engine,
        r#"(module (func (export "f") (result i32) i32.const 7))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    assert_eq!(
        instance
            .get_typed_func::<(), i32>(&mut store, "f")?
            .call(&mut store, ())?,
        7
    );
    Ok(())
}

/// externref.rs: an externref through a table, a global and a function, then a collection.
#[test]
fn externref_through_table_global_and_func() -> Result<()> {
    use wasmtime::{ExternRef, Rooted};
    let mut config = Config::new();
    config.wasm_reference_types(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module
            (table $table (export "table") 10 externref)
            (global $global (export "global") (mut externref) (ref.null extern))
            (func (export "func") (param externref) (result externref) local.get 0))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[])?;

    let externref = ExternRef::new(&mut store, "Hello, World!")?;
    assert!(externref
        .data(&store)?
        .expect("should have host data")
        .is::<&'static str>());
    let hello = |store: &Store<()>, r: &Rooted<ExternRef>| -> Result<bool> {
        Ok(r.data(store)?
            .and_then(|d| d.downcast_ref::<&'static str>())
            == Some(&"Hello, World!"))
    };

    let table = instance.get_table(&mut store, "table").unwrap();
    table.set(&mut store, 3, Some(externref).into())?;
    let elem = table
        .get(&mut store, 3)
        .unwrap()
        .unwrap_extern()
        .cloned()
        .unwrap();
    assert!(hello(&store, &elem)?);

    let global = instance.get_global(&mut store, "global").unwrap();
    global.set(&mut store, Some(externref).into())?;
    let global_val = global.get(&mut store).unwrap_externref().cloned().unwrap();
    assert!(hello(&store, &global_val)?);

    let func = instance.get_typed_func::<Option<Rooted<ExternRef>>, Option<Rooted<ExternRef>>>(
        &mut store, "func",
    )?;
    let ret = func.call(&mut store, Some(externref))?;
    assert!(hello(&store, &ret.unwrap())?);

    store.gc(None)?;
    let collect = wasmtime::Func::wrap(&mut store, |mut caller: Caller<'_, ()>| caller.gc(None));
    collect.typed::<(), ()>(&store)?.call(&mut store, ())?;
    assert!(hello(&store, &externref)?);
    Ok(())
}

/// Engine helpers embedders use: weak references, the compatibility hash of precompiled
/// modules, eager thread set-up.
#[test]
fn engine_weak_and_compatibility_hash() -> Result<()> {
    use std::hash::{Hash, Hasher};
    fn hash_of(engine: &Engine) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        h.finish()
    }
    Engine::tls_eager_initialize();
    let engine = Engine::default();
    let weak = engine.weak();
    assert!(Engine::same(&weak.upgrade().unwrap(), &engine));
    assert_eq!(hash_of(&engine), hash_of(&Engine::default()));
    let mut fuel = Config::new();
    fuel.consume_fuel(true);
    assert_ne!(hash_of(&engine), hash_of(&Engine::new(&fuel)?));
    drop(engine);
    assert!(weak.upgrade().is_none());
    Ok(())
}

/// `Store::call_hook` sees every transition between host and wasm, and its errors stop the
/// call.
#[test]
fn call_hooks_see_every_transition() -> Result<()> {
    use wasmtime::CallHook;
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "f" (func $f (param i32) (result i32)))
            (func (export "run") (param i32) (result i32) (call $f (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, Vec::<CallHook>::new());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "f", |x: i32| x * 2)?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    store.call_hook(|mut cx, hook| {
        cx.data_mut().push(hook);
        if cx.data().len() > 8 {
            wasmtime::bail!("too many transitions");
        }
        Ok(())
    });
    assert_eq!(run.call(&mut store, 21)?, 42);
    assert_eq!(
        store.data().as_slice(),
        [
            CallHook::CallingWasm,
            CallHook::CallingHost,
            CallHook::ReturningFromHost,
            CallHook::ReturningFromWasm
        ]
    );
    assert!(store
        .data()
        .iter()
        .all(|h| h.entering_host() != h.exiting_host()));
    assert_eq!(run.call(&mut store, 1)?, 2);
    // The ninth transition (entering the host function) fails: the call fails with it.
    let err = run.call(&mut store, 1).unwrap_err();
    assert!(
        format!("{err:?}").contains("too many transitions"),
        "{err:?}"
    );
    Ok(())
}
