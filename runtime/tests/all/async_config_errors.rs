//! With `Config::async_support(true)` the sync entry points (`Func::call`, `TypedFunc::call`,
//! `Instance::new`, `Linker::instantiate`, `InstancePre::instantiate`) return errors instead of
//! panicking or running; async host functions called from a sync call of a non-async engine
//! error; `Engine::new` rejects `async_stack_size < max_wasm_stack`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use wasmjit::*;

fn ready<F: Future>(fut: F) -> F::Output {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("expected to complete in one poll"),
    }
}

const GUEST: &str = r#"(module
  (import "host" "get" (func $get (result i32)))
  (func (export "run") (result i32) (call $get)))"#;

#[test]
fn sync_entry_points_error_on_an_async_engine() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, GUEST)?;
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "get", || 5i32)?;
    let mut store = Store::new(&engine, ());

    assert!(linker.instantiate(&mut store, &module).is_err());
    let pre = linker.instantiate_pre(&module)?;
    assert!(pre.instantiate(&mut store).is_err());
    let get = Func::wrap(&mut store, || 5i32);
    assert!(Instance::new(&mut store, &module, &[get.into()]).is_err());

    let instance = ready(pre.instantiate_async(&mut store))?;
    let run = instance.get_func(&mut store, "run").unwrap();
    let mut results = [Val::I32(0)];
    let err = run.call(&mut store, &[], &mut results).unwrap_err();
    assert!(format!("{err}").contains("async"), "{err}");
    let typed = run.typed::<(), i32>(&store)?;
    assert!(typed.call(&mut store, ()).is_err());
    // Calling a host function directly is a sync entry point too.
    assert!(get.call(&mut store, &[], &mut results).is_err());

    // The async paths work on the same store.
    assert_eq!(ready(typed.call_async(&mut store, ()))?, 5);
    ready(run.call_async(&mut store, &[], &mut results))?;
    assert_eq!(results[0].unwrap_i32(), 5);
    ready(get.call_async(&mut store, &[], &mut results))?;
    assert_eq!(results[0].unwrap_i32(), 5);
    assert!(ready(Instance::new_async(&mut store, &module, &[get.into()])).is_ok());
    assert!(ready(linker.instantiate_async(&mut store, &module)).is_ok());
    Ok(())
}

#[test]
fn async_host_functions_error_when_reached_from_a_sync_call() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST)?;
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap_async("host", "get", |_: Caller<'_, ()>, (): ()| {
        Box::new(async { 5i32 })
    })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    let err = run.call(&mut store, ()).unwrap_err();
    assert!(format!("{err:?}").contains("call_async"), "{err:?}");
    // call_async works without async_support.
    assert_eq!(ready(run.call_async(&mut store, ()))?, 5);
    Ok(())
}

#[test]
fn engine_rejects_an_async_stack_smaller_than_the_wasm_stack() {
    let mut config = Config::new();
    config
        .async_support(true)
        .async_stack_size(64 << 10)
        .max_wasm_stack(128 << 10);
    let err = Engine::new(&config).unwrap_err();
    assert!(format!("{err}").contains("stack"), "{err}");
    config.async_stack_size(128 << 10);
    assert!(Engine::new(&config).is_ok(), "equal sizes are allowed");
}
