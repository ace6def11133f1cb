//! Embedder code that panics while wasm runs: the resource limiter (from `memory.grow`,
//! `table.grow`, `Memory::grow`, `Table::grow`, `throw`), the epoch deadline callback (in a loop and
//! at the entry from the host), the call hook, and the waker of a fuel or epoch yield. The
//! panic leaves the wasm frames and resumes in the caller of the call (for async calls, in
//! the poller of its future) with its original payload, the callback stays installed, and
//! the store keeps working.
//!
//! Each scenario runs in a child process: before this was built, such a panic aborted the
//! process, which must fail the test rather than the whole test binary.

use crate::support::child::run_in_child;

use std::future::Future;
use std::panic::{catch_unwind, panic_any, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use wasmjit::*;

/// The payload every test panics with: the test checks it comes back unchanged.
#[derive(Debug, PartialEq, Eq)]
struct Boom(&'static str);

/// Runs `f` and returns the `Boom` it panicked with; fails when it returned.
fn boom_of<R>(f: impl FnOnce() -> R) -> &'static str {
    let payload = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => payload,
    };
    match payload.downcast_ref::<Boom>() {
        Some(Boom(what)) => what,
        None => panic!("not the original payload"),
    }
}

/// Polls `fut` to completion with `waker`.
fn poll_with<F: Future + ?Sized>(mut fut: Pin<&mut F>, waker: &Waker) -> F::Output {
    let mut cx = Context::from_waker(waker);
    for _ in 0..100_000 {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("still pending after 100 000 polls");
}

fn poll<F: Future + ?Sized>(fut: Pin<&mut F>) -> F::Output {
    poll_with(fut, Waker::noop())
}

// ---------------------------------------------------------------------------------------------
// The resource limiter.

/// Allows memories up to 4 pages and tables up to 4 elements; panics where told to.
#[derive(Default)]
struct Limiter {
    panic_growing: bool,
    panic_failed: bool,
    panic_exceptions: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> Result<bool> {
        if self.panic_growing {
            panic_any(Boom("memory_growing"));
        }
        Ok(desired <= 4 * 65536)
    }

    fn memory_grow_failed(&mut self, _: Error) -> Result<()> {
        if self.panic_failed {
            panic_any(Boom("memory_grow_failed"));
        }
        Ok(())
    }

    fn table_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> Result<bool> {
        if self.panic_growing {
            panic_any(Boom("table_growing"));
        }
        Ok(desired <= 4)
    }

    fn table_grow_failed(&mut self, _: Error) -> Result<()> {
        if self.panic_failed {
            panic_any(Boom("table_grow_failed"));
        }
        Ok(())
    }

    fn exceptions(&self) -> usize {
        if self.panic_exceptions {
            panic_any(Boom("exceptions"));
        }
        DEFAULT_EXCEPTION_LIMIT
    }
}

const GROW_WAT: &str = r#"(module
  (memory (export "memory") 1)
  (table (export "table") 1 funcref)
  (func (export "memory_grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "table_grow") (param i32) (result i32)
    (table.grow (ref.null func) (local.get 0))))"#;

/// Grows the memory (`"memory"`) or the table of the store by `delta`: the old size or -1.
type Grow<'a> = dyn FnMut(&mut Store<Limiter>, &str, u32) -> Result<i32> + 'a;

fn limited_store(engine: &Engine) -> Store<Limiter> {
    let mut store = Store::new(engine, Limiter::default());
    store.limiter(|l| l as &mut dyn ResourceLimiter);
    store
}

/// Each growth path, with the limiter panicking in `*_growing` and in `*_grow_failed`; the
/// same growth works once the limiter stops panicking, and a refusal proves that the
/// limiter is still installed.
fn check_limiter_panics(store: &mut Store<Limiter>, grow: &mut Grow<'_>) {
    for what in ["memory", "table"] {
        store.data_mut().panic_growing = true;
        let got = boom_of(|| grow(store, what, 1));
        assert_eq!(got, format!("{what}_growing"));
        store.data_mut().panic_growing = false;
        assert_eq!(grow(store, what, 1).unwrap(), 1, "{what}: grown from 1");
        assert_eq!(grow(store, what, 10).unwrap(), -1, "{what}: refused");

        store.data_mut().panic_failed = true;
        let got = boom_of(|| grow(store, what, 10));
        assert_eq!(got, format!("{what}_grow_failed"));
        store.data_mut().panic_failed = false;
        assert_eq!(grow(store, what, 0).unwrap(), 2, "{what}: still usable");
    }
}

#[test]
#[ignore = "run in a child process by `limiter_panics`"]
fn child_limiter_panics() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GROW_WAT)?;
    // From wasm (`memory.grow`, `table.grow`).
    let mut store = limited_store(&engine);
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory_grow = instance.get_typed_func::<u32, i32>(&mut store, "memory_grow")?;
    let table_grow = instance.get_typed_func::<u32, i32>(&mut store, "table_grow")?;
    check_limiter_panics(&mut store, &mut |store, what, delta| match what {
        "memory" => memory_grow.call(&mut *store, delta),
        _ => table_grow.call(&mut *store, delta),
    });
    // From the host (`Memory::grow`, `Table::grow`).
    let mut store = limited_store(&engine);
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let table = instance.get_table(&mut store, "table").unwrap();
    check_limiter_panics(&mut store, &mut |store, what, delta| {
        let grown = match what {
            "memory" => memory.grow(&mut *store, delta.into()),
            _ => table.grow(&mut *store, delta.into(), Ref::Func(None)),
        };
        // The host sees a refusal as an error; report it as wasm does.
        Ok(grown.map_or(-1, |old| old as i32))
    });
    Ok(())
}

#[test]
fn limiter_panics() {
    run_in_child(module_path!(), "child_limiter_panics");
}

#[test]
#[ignore = "run in a child process by `limiter_panics_async`"]
fn child_limiter_panics_async() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, GROW_WAT)?;
    let mut store = limited_store(&engine);
    let instance = poll(pin!(Instance::new_async(&mut store, &module, &[])))?;
    let memory_grow = instance.get_typed_func::<u32, i32>(&mut store, "memory_grow")?;
    let table_grow = instance.get_typed_func::<u32, i32>(&mut store, "table_grow")?;
    check_limiter_panics(&mut store, &mut |store, what, delta| match what {
        "memory" => poll(pin!(memory_grow.call_async(&mut *store, delta))),
        _ => poll(pin!(table_grow.call_async(&mut *store, delta))),
    });
    Ok(())
}

#[test]
fn limiter_panics_async() {
    run_in_child(module_path!(), "child_limiter_panics_async");
}

/// The `throw` builtin asks the limiter for its count of exceptions (the first `throw`
/// after the limiter is installed, then at each collection).
#[test]
#[ignore = "run in a child process by `limiter_panics_on_throw`"]
fn child_limiter_panics_on_throw() -> Result<()> {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(
        &engine,
        r#"(module
          (tag $e (param i32))
          (func (export "throw") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $e $h) (throw $e (local.get 0)))
              unreachable)))"#,
    )?;
    let mut store = limited_store(&engine);
    let instance = Instance::new(&mut store, &module, &[])?;
    let throw = instance.get_typed_func::<i32, i32>(&mut store, "throw")?;
    store.data_mut().panic_exceptions = true;
    assert_eq!(boom_of(|| throw.call(&mut store, 1)), "exceptions");
    store.data_mut().panic_exceptions = false;
    assert_eq!(throw.call(&mut store, 2)?, 2);
    Ok(())
}

#[test]
fn limiter_panics_on_throw() {
    run_in_child(module_path!(), "child_limiter_panics_on_throw");
}

// ---------------------------------------------------------------------------------------------
// The epoch deadline callback.

#[test]
#[ignore = "run in a child process by `epoch_callback_panics`"]
fn child_epoch_callback_panics() -> Result<()> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    // Loops `n` times, advancing the epoch through the host on the way: the loop header's
    // check then finds the deadline passed.
    let module = Module::new(
        &engine,
        r#"(module
          (import "host" "tick" (func $tick))
          (func (export "spin") (param $n i32) (result i32)
            (local $i i32)
            (loop $l
              (call $tick)
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
            (local.get $i)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let tick_engine = engine.clone();
    let tick = Func::wrap(&mut store, move || tick_engine.increment_epoch());
    let instance = Instance::new(&mut store, &module, &[tick.into()])?;
    let spin = instance.get_typed_func::<i32, i32>(&mut store, "spin")?;
    let panicking = Arc::new(AtomicBool::new(true));
    let calls = Arc::new(AtomicUsize::new(0));
    let (p, c) = (panicking.clone(), calls.clone());
    store.epoch_deadline_callback(move |_| {
        c.fetch_add(1, Ordering::Relaxed);
        if p.load(Ordering::Relaxed) {
            panic_any(Boom("epoch callback"));
        }
        Ok(UpdateDeadline::Continue(1))
    });
    // While the loop runs.
    store.set_epoch_deadline(5);
    assert_eq!(boom_of(|| spin.call(&mut store, 1000)), "epoch callback");
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    // At the entry from the host: the deadline has already passed.
    engine.increment_epoch();
    assert_eq!(boom_of(|| spin.call(&mut store, 1)), "epoch callback");
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    // The callback is still installed and the store works.
    panicking.store(false, Ordering::Relaxed);
    assert_eq!(spin.call(&mut store, 1000)?, 1000);
    assert!(calls.load(Ordering::Relaxed) > 2);
    Ok(())
}

#[test]
fn epoch_callback_panics() {
    run_in_child(module_path!(), "child_epoch_callback_panics");
}

// ---------------------------------------------------------------------------------------------
// The call hook.

#[test]
#[ignore = "run in a child process by `call_hook_panics`"]
fn child_call_hook_panics() -> Result<()> {
    check_call_hook_panics(false)?;
    check_call_hook_panics(true)
}

/// A hook panicking at each kind of transition, on sync or async calls.
fn check_call_hook_panics(async_calls: bool) -> Result<()> {
    let mut config = Config::new();
    config.async_support(async_calls);
    let engine = Engine::new(&config)?;
    let module = Module::new(
        &engine,
        r#"(module
          (import "host" "f" (func $f (result i32)))
          (func (export "run") (result i32) (i32.add (call $f) (i32.const 1))))"#,
    )?;
    let mut store = Store::new(&engine, None::<CallHook>);
    let f = Func::wrap(&mut store, || 41);
    let instance = if async_calls {
        poll(pin!(Instance::new_async(&mut store, &module, &[f.into()])))?
    } else {
        Instance::new(&mut store, &module, &[f.into()])?
    };
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    let call = |store: &mut Store<Option<CallHook>>| {
        if async_calls {
            poll(pin!(run.call_async(&mut *store, ())))
        } else {
            run.call(&mut *store, ())
        }
    };
    store.call_hook(|store, kind| {
        if *store.data() == Some(kind) {
            panic_any(Boom("call hook"));
        }
        Ok(())
    });
    for kind in [
        CallHook::CallingWasm,
        CallHook::CallingHost,
        CallHook::ReturningFromHost,
        CallHook::ReturningFromWasm,
    ] {
        *store.data_mut() = Some(kind);
        assert_eq!(boom_of(|| call(&mut store)), "call hook", "{kind:?}");
        *store.data_mut() = None;
        assert_eq!(call(&mut store)?, 42, "after {kind:?}");
    }
    // Still installed.
    *store.data_mut() = Some(CallHook::CallingHost);
    assert_eq!(boom_of(|| call(&mut store)), "call hook");
    Ok(())
}

#[test]
fn call_hook_panics() {
    run_in_child(module_path!(), "child_call_hook_panics");
}

// ---------------------------------------------------------------------------------------------
// The waker of a yield.

/// A waker that panics when woken.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic_any(Boom("waker"));
    }
}

const LOOP_WAT: &str = r#"(module
  (func (export "spin") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))"#;

#[test]
#[ignore = "run in a child process by `yield_waker_panics`"]
fn child_yield_waker_panics() -> Result<()> {
    let mut config = Config::new();
    config
        .async_support(true)
        .consume_fuel(true)
        .epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, LOOP_WAT)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX / 2)?;
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = poll(pin!(Instance::new_async(&mut store, &module, &[])))?;
    let spin = instance.get_typed_func::<i32, i32>(&mut store, "spin")?;
    let panicking = Waker::from(Arc::new(PanickingWaker));

    // A fuel yield.
    store.fuel_async_yield_interval(Some(100))?;
    let got = boom_of(|| poll_with(pin!(spin.call_async(&mut store, 10_000)), &panicking));
    assert_eq!(got, "waker");
    assert_eq!(poll(pin!(spin.call_async(&mut store, 10_000)))?, 10_000);

    // An epoch yield.
    store.fuel_async_yield_interval(None)?;
    store.epoch_deadline_async_yield_and_update(1);
    store.set_epoch_deadline(0);
    let got = boom_of(|| poll_with(pin!(spin.call_async(&mut store, 10_000)), &panicking));
    assert_eq!(got, "waker");
    store.set_epoch_deadline(0);
    assert_eq!(poll(pin!(spin.call_async(&mut store, 10_000)))?, 10_000);
    Ok(())
}

#[test]
fn yield_waker_panics() {
    run_in_child(module_path!(), "child_yield_waker_panics");
}

// ---------------------------------------------------------------------------------------------
