//! What a failure on the way back into a suspended call leaves behind.

use crate::vm::traphandlers::tests::{is_child, run_test_in_child};
use crate::vm::traphandlers::{innermost_call, test_hooks};
use crate::*;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

const SPIN: &str = r#"(module
  (func (export "spin") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))"#;

fn poll<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// The store's per-call state when no call runs: no fiber, no stack limit, nothing parked,
/// no wasm entry.
fn assert_idle(store: &Store<()>) {
    let opaque = &store.inner.opaque;
    assert!(opaque.async_cx.is_none());
    assert_eq!(opaque.stack_owner, usize::MAX);
    // SAFETY: no wasm of the store runs; the limits are only read.
    assert_eq!(unsafe { *opaque.limits.stack_limit.get() }, usize::MAX);
    assert!(!opaque.has_parked_calls());
    assert_eq!(opaque.wasm_entries, 0);
}

/// A call suspended on one thread and resumed on another whose preparation for traps (the
/// handlers, the alternate signal stack) fails: the call fails with that error, the resuming
/// thread keeps no chain of trap entries, the store is as before the call, and later calls
/// work, also resumed on another thread. Stale state would crash: in a child process.
#[test]
fn failed_thread_preparation_on_resume_fails_the_call_and_leaves_nothing_stale() {
    const NAME: &str =
        "failed_thread_preparation_on_resume_fails_the_call_and_leaves_nothing_stale";
    if !is_child(NAME) {
        let Some(output) = run_test_in_child(module_path!(), NAME) else {
            return;
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "{}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    let mut config = Config::new();
    config.async_support(true).consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, SPIN).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX / 2).unwrap();
    store.fuel_async_yield_interval(Some(1000)).unwrap();
    let instance = {
        let mut fut = Box::pin(Instance::new_async(&mut store, &module, &[]));
        match poll(fut.as_mut()) {
            Poll::Ready(instance) => instance.unwrap(),
            Poll::Pending => panic!("instantiation suspended"),
        }
    };
    let spin = instance
        .get_typed_func::<i32, i32>(&mut store, "spin")
        .unwrap();

    let mut call = Box::pin(spin.call_async(&mut store, 1_000_000));
    assert!(poll(call.as_mut()).is_pending());
    let (result, chain) = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                test_hooks::fail_next_preparation();
                let result = match poll(call.as_mut()) {
                    Poll::Ready(result) => result,
                    Poll::Pending => panic!("the call went on on a thread not prepared"),
                };
                (result, innermost_call())
            })
            .join()
            .unwrap()
    });
    drop(call);
    let err = result.unwrap_err();
    assert!(format!("{err:#}").contains("injected failure"), "{err:#}");
    assert_eq!(chain, 0, "the resuming thread kept a trap entry");
    assert_idle(&store);

    // The store works, also on a thread that resumes a suspended call of it.
    let mut call = Box::pin(spin.call_async(&mut store, 5_000));
    assert!(poll(call.as_mut()).is_pending());
    let polls = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut polls = 1;
                loop {
                    polls += 1;
                    if let Poll::Ready(result) = poll(call.as_mut()) {
                        assert_eq!(result.unwrap(), 5_000);
                        break polls;
                    }
                }
            })
            .join()
            .unwrap()
    });
    assert!(polls > 2, "the call suspended only once");
    drop(call);
    assert_idle(&store);
    assert_eq!(innermost_call(), 0);
}
