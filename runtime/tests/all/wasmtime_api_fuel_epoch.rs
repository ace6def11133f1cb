//! Fuel and epoch interruption through Wasmtime's API.

use wasmjit as wasmtime;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use wasmtime::{Config, Engine, Instance, Module, Store, Trap, UpdateDeadline};

const LOOP_FOREVER: &str = r#"(module (func (export "run") (loop br 0)))"#;
const FIB: &str = r#"(module
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_s
    if (result i32) local.get 0
    else local.get 0 i32.const 1 i32.sub call $fib
         local.get 0 i32.const 2 i32.sub call $fib i32.add end))"#;

#[test]
fn fuel_runs_out_and_refills() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    // A store starts with no fuel.
    assert_eq!(store.get_fuel()?, 0);
    let module = Module::new(&engine, FIB)?;
    assert!(Instance::new(&mut store, &module, &[]).is_ok());
    store.set_fuel(10_000)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
    assert_eq!(fib.call(&mut store, 5)?, 5);
    let left = store.get_fuel()?;
    assert!(left < 10_000 && left > 0, "{left}");
    let err = fib.call(&mut store, 30).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    assert_eq!(store.get_fuel()?, 0);
    store.set_fuel(u64::MAX)?;
    assert_eq!(fib.call(&mut store, 20)?, 6765);
    // Each fib(n) call costs more than the one before.
    let mut costs = vec![];
    for n in [5, 10, 15] {
        store.set_fuel(1_000_000)?;
        fib.call(&mut store, n)?;
        costs.push(1_000_000 - store.get_fuel()?);
    }
    assert!(costs[0] < costs[1] && costs[1] < costs[2], "{costs:?}");
    Ok(())
}

#[test]
fn fuel_apis_fail_without_fuel_consumption() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    assert!(store.get_fuel().is_err());
    assert!(store.set_fuel(1).is_err());
}

#[test]
fn host_functions_see_and_set_fuel() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, 0u64);
    store.set_fuel(5_000)?;
    let module = Module::new(
        &engine,
        r#"(module (import "" "f" (func $f)) (func (export "run") call $f))"#,
    )?;
    let f = wasmtime::Func::wrap(&mut store, |mut caller: wasmtime::Caller<'_, u64>| {
        let fuel = caller.get_fuel()?;
        *caller.data_mut() = fuel;
        caller.set_fuel(fuel + 100)
    });
    let instance = Instance::new(&mut store, &module, &[f.into()])?;
    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
    run.call(&mut store, ())?;
    let seen = *store.data();
    assert!(seen > 0 && seen <= 5_000);
    assert!(store.get_fuel()? > seen);
    Ok(())
}

#[test]
fn epoch_interrupts_an_infinite_loop() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(1);
    let module = Module::new(&engine, LOOP_FOREVER)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
    let ticker = engine.clone();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        ticker.increment_epoch();
    });
    let err = run.call(&mut store, ()).unwrap_err();
    thread.join().unwrap();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    assert!(format!("{err:?}").contains("interrupt"));
    // With the deadline already past, the next call traps right away.
    let err = run.call(&mut store, ()).unwrap_err();
    assert!(matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)));
    Ok(())
}

#[test]
fn epoch_deadline_callback_extends_then_stops() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, 0u32);
    let module = Module::new(&engine, LOOP_FOREVER)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx| {
        *cx.data_mut() += 1;
        if *cx.data() < 3 {
            Ok(UpdateDeadline::Continue(1))
        } else {
            anyhow::bail!("enough after {} ticks", cx.data())
        }
    });
    let stop = Arc::new(AtomicUsize::new(0));
    let ticker = engine.clone();
    let stop2 = stop.clone();
    let thread = std::thread::spawn(move || {
        while stop2.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
            ticker.increment_epoch();
        }
    });
    let err = run.call(&mut store, ()).unwrap_err();
    stop.store(1, Ordering::SeqCst);
    thread.join().unwrap();
    assert_eq!(*store.data(), 3);
    assert!(
        format!("{err:?}").contains("enough after 3 ticks"),
        "{err:?}"
    );
    // Back to trapping.
    store.epoch_deadline_trap();
    store.set_epoch_deadline(0);
    let err = run.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    Ok(())
}
