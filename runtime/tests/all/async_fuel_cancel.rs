//! Fuel yields are deterministic (same module, fuel and interval: the same number of
//! `Pending` polls and the same fuel left on every run, and the same fuel left as a sync run),
//! and a call future dropped at any suspension point — a fuel yield, an epoch yield, a pending
//! async host function (also one nested under a callback into wasm), a tokio timeout, or
//! before its first poll — leaves the store usable and drops the pending host future.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use wasmjit::*;

/// Polls `fut` to completion with a no-op waker; returns its output and how many polls were
/// pending. Gives up after `max_polls`.
fn poll_to_end<F: Future + ?Sized>(mut fut: Pin<&mut F>, max_polls: usize) -> (F::Output, usize) {
    let mut cx = Context::from_waker(Waker::noop());
    for pending in 0..max_polls {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return (v, pending);
        }
    }
    panic!("still pending after {max_polls} polls");
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

fn trap_of(err: &Error) -> Trap {
    *err.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

const WORK: &str = r#"(module
  (func (export "work") (param $n i32) (result i64) (local $i i32) (local $acc i64)
    (loop $l
      (local.set $acc (i64.add (local.get $acc)
        (i64.mul (i64.extend_i32_u (local.get $i)) (i64.extend_i32_u (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
  (func (export "spin") (loop $l (br $l)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;

const FUEL: u64 = 10_000_000;
const INTERVAL: u64 = 10_000;
const N: i32 = 100_000;

fn fuel_engine(async_support: bool) -> Engine {
    let mut config = Config::new();
    config.async_support(async_support).consume_fuel(true);
    Engine::new(&config).unwrap()
}

/// One async run of `work(N)` on a fresh store: (pending polls, fuel left, result).
fn async_fuel_run(engine: &Engine, module: &Module) -> (usize, u64, i64) {
    let mut store = Store::new(engine, ());
    store.set_fuel(FUEL).unwrap();
    store.fuel_async_yield_interval(Some(INTERVAL)).unwrap();
    let (instance, _) = poll_to_end(pin!(Instance::new_async(&mut store, module, &[])), 10);
    let instance = instance.unwrap();
    let work = instance
        .get_typed_func::<i32, i64>(&mut store, "work")
        .unwrap();
    let (result, pending) = poll_to_end(pin!(work.call_async(&mut store, N)), 1_000_000);
    (pending, store.get_fuel().unwrap(), result.unwrap())
}

#[test]
fn fuel_yields_are_deterministic_across_runs() {
    let engine = fuel_engine(true);
    let module = Module::new(&engine, WORK).unwrap();
    let first = async_fuel_run(&engine, &module);
    for run in 1..5 {
        assert_eq!(async_fuel_run(&engine, &module), first, "run {run} differs");
    }
    let (pending, left, result) = first;
    let expected: i64 = (0..N as i64).map(|i| i * i).sum();
    assert_eq!(result, expected);
    let consumed = FUEL - left;
    assert!(pending > 0);
    // One yield per interval boundary crossed.
    assert!(
        (consumed / INTERVAL).abs_diff(pending as u64) <= 1,
        "{pending} yields for {consumed} fuel at interval {INTERVAL}"
    );
}

/// Fuel left after `work(n)` run synchronously on an engine without async support.
fn sync_fuel_left(n: i32) -> u64 {
    let engine = fuel_engine(false);
    let module = Module::new(&engine, WORK).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(FUEL).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let work = instance
        .get_typed_func::<i32, i64>(&mut store, "work")
        .unwrap();
    work.call(&mut store, n).unwrap();
    store.get_fuel().unwrap()
}

#[test]
fn fuel_yields_leave_the_same_fuel_as_a_sync_call() {
    let engine = fuel_engine(true);
    let module = Module::new(&engine, WORK).unwrap();
    let (_, left, _) = async_fuel_run(&engine, &module);
    assert_eq!(left, sync_fuel_left(N));
}

#[test]
fn a_yield_interval_smaller_than_a_basic_block_still_runs_to_completion() {
    let engine = fuel_engine(true);
    let module = Module::new(&engine, WORK).unwrap();
    for interval in [1, 7, 16] {
        let mut store = Store::new(&engine, ());
        store.set_fuel(FUEL).unwrap();
        store.fuel_async_yield_interval(Some(interval)).unwrap();
        let (instance, _) = poll_to_end(pin!(Instance::new_async(&mut store, &module, &[])), 10);
        let work = instance
            .unwrap()
            .get_typed_func::<i32, i64>(&mut store, "work")
            .unwrap();
        let (result, pending) = poll_to_end(pin!(work.call_async(&mut store, 10)), 1_000);
        assert_eq!(
            result.unwrap(),
            (0..10).map(|i| i * i).sum::<i64>(),
            "interval {interval}"
        );
        assert!(pending > 0);
        assert_eq!(
            store.get_fuel().unwrap(),
            sync_fuel_left(10),
            "interval {interval}"
        );
    }
}

#[test]
fn fuel_yields_stop_when_the_tank_is_empty_and_the_call_traps() {
    let engine = fuel_engine(true);
    let module = Module::new(&engine, WORK).unwrap();
    for _ in 0..3 {
        let mut store = Store::new(&engine, ());
        store.set_fuel(25_000).unwrap();
        store.fuel_async_yield_interval(Some(10_000)).unwrap();
        let (instance, _) = poll_to_end(pin!(Instance::new_async(&mut store, &module, &[])), 10);
        let spin = instance
            .unwrap()
            .get_typed_func::<(), ()>(&mut store, "spin")
            .unwrap();
        // Chunks of 10 000, 10 000 and 5 000: a yield after each of the first two.
        let (result, pending) = poll_to_end(pin!(spin.call_async(&mut store, ())), 100);
        assert_eq!(trap_of(&result.unwrap_err()), Trap::OutOfFuel);
        assert_eq!(pending, 2);
        assert_eq!(store.get_fuel().unwrap(), 0);
    }
}

/// Sets a flag when dropped.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Flags {
    started: Arc<AtomicBool>,
    dropped: Arc<AtomicBool>,
    inner_started: Arc<AtomicBool>,
    inner_dropped: Arc<AtomicBool>,
}

const CANCEL_GUEST: &str = r#"(module
  (import "host" "forever" (func $forever (result i32)))
  (import "host" "nested" (func $nested (result i32)))
  (func (export "wait") (result i32) (call $forever))
  (func (export "wait_nested") (result i32) (call $nested))
  (func (export "spin") (loop $l (br $l)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;

/// What `cancel_setup` returns: the engine, the store, its instance and its `add` export.
type CancelSetup = (Engine, Store<Flags>, Instance, TypedFunc<(i32, i32), i32>);

/// A store of an async engine (with fuel and epochs as asked) whose `host.forever` never completes
/// and whose `host.nested` calls `wait` (so `forever`) back through its `Caller`. Both hold
/// a `DropFlag` in their futures.
fn cancel_setup(fuel: bool, epochs: bool) -> Result<CancelSetup> {
    let mut config = Config::new();
    config
        .async_support(true)
        .consume_fuel(fuel)
        .epoch_interruption(epochs);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<Flags>::new(&engine);
    linker.func_wrap_async("host", "forever", |caller: Caller<'_, Flags>, (): ()| {
        let (started, dropped) = (caller.data().started.clone(), caller.data().dropped.clone());
        Box::new(async move {
            let _guard = DropFlag(dropped);
            started.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
            0i32
        })
    })?;
    linker.func_wrap_async("host", "nested", |mut caller: Caller<'_, Flags>, (): ()| {
        Box::new(async move {
            let _guard = DropFlag(caller.data().inner_dropped.clone());
            caller.data().inner_started.store(true, Ordering::SeqCst);
            let wait = caller
                .get_export("wait")
                .and_then(Extern::into_func)
                .unwrap()
                .typed::<(), i32>(&caller)?;
            wait.call_async(&mut caller, ()).await
        })
    })?;
    let module = Module::new(&engine, CANCEL_GUEST)?;
    let mut store = Store::new(&engine, Flags::default());
    if fuel {
        store.set_fuel(1 << 40)?;
    }
    let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)), 10);
    let instance = instance?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
    Ok((engine, store, instance, add))
}

/// The store completes new async calls, and still refuses sync ones. After a cancelled fuel
/// or epoch yield the next call may yield once at its entry (the exhausted fuel chunk or the
/// passed deadline is only renewed when a yield resumes, as in Wasmtime): `max_pending`.
fn assert_usable(store: &mut Store<Flags>, add: &TypedFunc<(i32, i32), i32>, max_pending: usize) {
    let (r, pending) = poll_to_end(pin!(add.call_async(&mut *store, (2, 3))), 10);
    assert_eq!(r.unwrap(), 5);
    assert!(
        pending <= max_pending,
        "{pending} pending polls for a call of add"
    );
    assert!(
        add.call(&mut *store, (2, 3)).is_err(),
        "a sync call must still fail on an async store after a cancelled call"
    );
}

#[test]
fn dropping_a_future_at_a_fuel_yield_leaves_the_store_usable() -> Result<()> {
    let (_engine, mut store, instance, add) = cancel_setup(true, false)?;
    store.fuel_async_yield_interval(Some(1_000))?;
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    for _ in 0..3 {
        let before = store.get_fuel()?;
        {
            let mut fut = pin!(spin.call_async(&mut store, ()));
            for _ in 0..5 {
                assert!(poll_once(fut.as_mut()).is_pending());
            }
        }
        let after = store.get_fuel()?;
        assert!(
            (4_000..=5_000).contains(&(before - after)),
            "five pending polls at 1000 fuel per yield, then cancelled: {} consumed",
            before - after
        );
        assert_usable(&mut store, &add, 1);
    }
    Ok(())
}

#[test]
fn dropping_a_future_at_an_epoch_yield_leaves_the_store_usable() -> Result<()> {
    let (engine, mut store, instance, add) = cancel_setup(false, true)?;
    store.epoch_deadline_async_yield_and_update(1);
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    for _ in 0..3 {
        store.set_epoch_deadline(1);
        engine.increment_epoch();
        {
            // Pending at the first loop header: the deadline has passed. (A second poll would
            // spin until the next epoch, which nothing here advances.)
            let mut fut = pin!(spin.call_async(&mut store, ()));
            assert!(poll_once(fut.as_mut()).is_pending());
        }
        assert_usable(&mut store, &add, 1);
    }
    Ok(())
}

#[test]
fn dropping_a_future_pending_in_an_async_host_function_drops_the_host_future() -> Result<()> {
    let (_engine, mut store, instance, add) = cancel_setup(false, false)?;
    let wait = instance.get_typed_func::<(), i32>(&mut store, "wait")?;
    for _ in 0..3 {
        store.data().started.store(false, Ordering::SeqCst);
        store.data().dropped.store(false, Ordering::SeqCst);
        {
            let mut fut = pin!(wait.call_async(&mut store, ()));
            assert!(poll_once(fut.as_mut()).is_pending());
            assert!(poll_once(fut.as_mut()).is_pending());
        }
        assert!(store.data().started.load(Ordering::SeqCst));
        assert!(
            store.data().dropped.load(Ordering::SeqCst),
            "the host future was not dropped with the call"
        );
        assert_usable(&mut store, &add, 0);
    }
    Ok(())
}

#[test]
fn dropping_a_future_pending_under_a_nested_callback_drops_both_host_futures() -> Result<()> {
    let (_engine, mut store, instance, add) = cancel_setup(false, false)?;
    let wait_nested = instance.get_typed_func::<(), i32>(&mut store, "wait_nested")?;
    {
        let mut fut = pin!(wait_nested.call_async(&mut store, ()));
        assert!(poll_once(fut.as_mut()).is_pending());
    }
    let flags = store.data();
    assert!(flags.inner_started.load(Ordering::SeqCst) && flags.started.load(Ordering::SeqCst));
    assert!(
        flags.dropped.load(Ordering::SeqCst),
        "inner host future not dropped"
    );
    assert!(
        flags.inner_dropped.load(Ordering::SeqCst),
        "outer host future not dropped"
    );
    assert_usable(&mut store, &add, 0);
    Ok(())
}

#[test]
fn dropping_a_future_before_its_first_poll_runs_nothing() -> Result<()> {
    let (_engine, mut store, instance, add) = cancel_setup(true, true)?;
    let wait = instance.get_typed_func::<(), i32>(&mut store, "wait")?;
    let fuel = store.get_fuel()?;
    drop(wait.call_async(&mut store, ()));
    drop(
        instance
            .get_func(&mut store, "spin")
            .unwrap()
            .call_async(&mut store, &[], &mut []),
    );
    assert!(!store.data().started.load(Ordering::SeqCst));
    assert!(!store.data().dropped.load(Ordering::SeqCst));
    assert_eq!(store.get_fuel()?, fuel, "nothing ran");
    store.set_epoch_deadline(1_000);
    assert_usable(&mut store, &add, 0);
    Ok(())
}

#[tokio::test]
async fn tokio_timeout_cancels_a_call_sleeping_in_a_host_function() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<Arc<AtomicBool>>::new(&engine);
    linker.func_wrap_async(
        "host",
        "sleep",
        |caller: Caller<'_, Arc<AtomicBool>>, (ms,): (i32,)| {
            let guard = DropFlag(caller.data().clone());
            Box::new(async move {
                let _guard = guard;
                tokio::time::sleep(Duration::from_millis(ms as u64)).await;
                ms
            })
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module (import "host" "sleep" (func $s (param i32) (result i32)))
             (func (export "run") (param i32) (result i32) (call $s (local.get 0))))"#,
    )?;
    let dropped = Arc::new(AtomicBool::new(false));
    let mut store = Store::new(&engine, dropped.clone());
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    let timed_out = tokio::time::timeout(
        Duration::from_millis(20),
        run.call_async(&mut store, 60_000),
    )
    .await;
    assert!(timed_out.is_err(), "the call should have timed out");
    assert!(
        dropped.load(Ordering::SeqCst),
        "the sleeping host future was not dropped"
    );
    dropped.store(false, Ordering::SeqCst);
    assert_eq!(run.call_async(&mut store, 1).await?, 1);
    assert!(
        dropped.load(Ordering::SeqCst),
        "completed host future dropped as usual"
    );
    Ok(())
}

/// Counts live `DropFlag`-like objects, to check nothing leaks across many cancellations.
static LIVE: AtomicUsize = AtomicUsize::new(0);
struct Live;
impl Live {
    fn new() -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Live
    }
}
impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn many_cancellations_leak_no_host_futures() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap_async("host", "forever", |_caller: Caller<'_, ()>, (): ()| {
        Box::new(async move {
            let _live = Live::new();
            std::future::pending::<()>().await;
            0i32
        })
    })?;
    let module = Module::new(
        &engine,
        r#"(module (import "host" "forever" (func $f (result i32)))
             (func (export "wait") (result i32) (call $f)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)), 10);
    let wait = instance?.get_typed_func::<(), i32>(&mut store, "wait")?;
    for _ in 0..1_000 {
        let mut fut = pin!(wait.call_async(&mut store, ()));
        assert!(poll_once(fut.as_mut()).is_pending());
        assert_eq!(LIVE.load(Ordering::SeqCst), 1);
    }
    assert_eq!(LIVE.load(Ordering::SeqCst), 0);
    Ok(())
}
