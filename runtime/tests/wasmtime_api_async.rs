//! Async embedding with tokio, written against Wasmtime's API.

use wasmjit as wasmtime;

use std::time::Duration;
use wasmtime::{
    Caller, Config, Engine, Func, FuncType, Instance, Linker, Module, Store, Trap, Val, ValType,
};

fn async_engine(fuel: bool) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.async_support(true);
    if fuel {
        config.consume_fuel(true);
    }
    Engine::new(&config)
}

struct Ctx {
    slept: u32,
}

#[tokio::test]
async fn async_host_functions_and_calls() -> wasmtime::Result<()> {
    let engine = async_engine(false)?;
    let mut store = Store::new(&engine, Ctx { slept: 0 });
    let mut linker: Linker<Ctx> = Linker::new(&engine);
    linker.func_wrap_async(
        "host",
        "sleep_then_double",
        |mut caller: Caller<'_, Ctx>, (ms, x): (u32, i32)| {
            Box::new(async move {
                tokio::time::sleep(Duration::from_millis(ms.into())).await;
                caller.data_mut().slept += 1;
                x * 2
            })
        },
    )?;
    linker.func_wrap_async("host", "fail", |_caller: Caller<'_, Ctx>, (): ()| {
        Box::new(async move {
            tokio::task::yield_now().await;
            Err::<(), _>(anyhow::anyhow!("async failure"))
        })
    })?;
    linker.func_new_async(
        "host",
        "add",
        FuncType::new(&engine, [ValType::I64, ValType::I64], [ValType::I64]),
        |_caller, params, results| {
            Box::new(async move {
                tokio::task::yield_now().await;
                results[0] = Val::I64(params[0].unwrap_i64() + params[1].unwrap_i64());
                Ok(())
            })
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "sleep_then_double" (func $sd (param i32 i32) (result i32)))
            (import "host" "fail" (func $fail))
            (import "host" "add" (func $add (param i64 i64) (result i64)))
            (func (export "run") (param i32) (result i32)
              (call $sd (i32.const 1) (call $sd (i32.const 1) (local.get 0))))
            (func (export "sum") (param i64) (result i64)
              (call $add (local.get 0) (i64.const 100)))
            (func (export "fails") call $fail))"#,
    )?;
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call_async(&mut store, 5).await?, 20);
    assert_eq!(store.data().slept, 2);

    let sum = instance.get_func(&mut store, "sum").unwrap();
    let mut out = [Val::I64(0)];
    sum.call_async(&mut store, &[Val::I64(23)], &mut out)
        .await?;
    assert_eq!(out[0].unwrap_i64(), 123);

    let fails = instance.get_typed_func::<(), ()>(&mut store, "fails")?;
    let err = fails.call_async(&mut store, ()).await.unwrap_err();
    assert!(format!("{err:?}").contains("async failure"));

    // Instance::new_async and an InstancePre.
    let pre = linker.instantiate_pre(&module)?;
    let second = pre.instantiate_async(&mut store).await?;
    let run2 = second.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run2.call_async(&mut store, 1).await?, 4);
    let plain = Module::new(
        &engine,
        r#"(module (func (export "f") (result i32) i32.const 3))"#,
    )?;
    let inst = Instance::new_async(&mut store, &plain, &[]).await?;
    let f = inst.get_typed_func::<(), i32>(&mut store, "f")?;
    assert_eq!(f.call_async(&mut store, ()).await?, 3);
    Ok(())
}

/// `spin(n)` counts a local up to `n` in a loop and returns it.
const SPIN: &str = r#"(module
  (func (export "spin") (param i32) (result i32)
    (local i32)
    (loop
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
    local.get 1))"#;

#[tokio::test]
async fn fuel_yields_let_other_tasks_run() -> wasmtime::Result<()> {
    let engine = async_engine(true)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX)?;
    store.fuel_async_yield_interval(Some(10_000))?;
    let module = Module::new(&engine, SPIN)?;
    let instance = Instance::new_async(&mut store, &module, &[]).await?;
    let spin = instance.get_typed_func::<i32, i32>(&mut store, "spin")?;
    // A single-threaded runtime: the ticker only runs when wasm yields.
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t2 = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            t2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::task::yield_now().await;
        }
    });
    assert_eq!(spin.call_async(&mut store, 1_000_000).await?, 1_000_000);
    ticker.abort();
    assert!(ticks.load(std::sync::atomic::Ordering::SeqCst) > 10);

    // Running out of fuel still traps.
    store.set_fuel(1_000)?;
    let err = spin.call_async(&mut store, 1_000_000).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    Ok(())
}

#[tokio::test]
async fn epoch_yields_in_async_calls() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config.async_support(true).epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    store.epoch_deadline_async_yield_and_update(1);
    store.set_epoch_deadline(1);
    let module = Module::new(&engine, SPIN)?;
    let instance = Instance::new_async(&mut store, &module, &[]).await?;
    let spin = instance.get_typed_func::<i32, i32>(&mut store, "spin")?;
    let ticker_engine = engine.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done2 = done.clone();
    let thread = std::thread::spawn(move || {
        while !done2.load(std::sync::atomic::Ordering::SeqCst) {
            ticker_engine.increment_epoch();
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let r = spin.call_async(&mut store, 50_000_000).await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    thread.join().unwrap();
    assert_eq!(r?, 50_000_000);
    // A sync call into an async store is an error in Wasmtime; either way it must not panic.
    let _ = Func::wrap(&mut store, || {});
    Ok(())
}

#[tokio::test]
async fn async_without_async_support_in_the_config() -> wasmtime::Result<()> {
    // Wasmtime 48 programs may not call `Config::async_support` at all.
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let slow = Func::wrap_async(&mut store, |_caller: Caller<'_, ()>, (x,): (i32,)| {
        Box::new(async move {
            tokio::task::yield_now().await;
            x + 1
        })
    });
    let module = Module::new(
        &engine,
        r#"(module (import "" "slow" (func $s (param i32) (result i32)))
            (func (export "run") (param i32) (result i32) (call $s (local.get 0))))"#,
    )?;
    let instance = Instance::new_async(&mut store, &module, &[slow.into()]).await?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call_async(&mut store, 41).await?, 42);
    // A sync call that reaches an async host function is an error, not a hang or a panic.
    assert!(run.call(&mut store, 1).is_err());
    Ok(())
}
