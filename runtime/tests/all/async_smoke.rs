use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasmjit::*;

/// A future that is pending `n` times before completing.
struct PendingN(u32);
impl Future for PendingN {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[tokio::test]
async fn async_host_function_suspends_and_resumes() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<u32>::new(&engine);
    linker.func_wrap_async(
        "host",
        "wait",
        |mut caller: Caller<'_, u32>, (x,): (i32,)| {
            Box::new(async move {
                PendingN(3).await;
                *caller.data_mut() += 1;
                x * 2
            })
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module (import "host" "wait" (func $w (param i32) (result i32)))
             (func (export "run") (param i32) (result i32) local.get 0 call $w i32.const 1 i32.add))"#,
    )?;
    let mut store = Store::new(&engine, 0u32);
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call_async(&mut store, 20).await?, 41);
    assert_eq!(*store.data(), 1);
    assert!(
        run.call(&mut store, 1).is_err(),
        "sync call on an async store must fail"
    );
    Ok(())
}

#[tokio::test]
async fn fuel_yields_then_traps() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true).consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, r#"(module (func (export "spin") (loop br 0)))"#)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(100_000)?;
    store.fuel_async_yield_interval(Some(10_000))?;
    let instance = Instance::new_async(&mut store, &module, &[]).await?;
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    let err = spin.call_async(&mut store, ()).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    Ok(())
}
