//! `memory.atomic.wait` ends when its store's epoch deadline passes (a trap, or waiting on
//! when the deadline callback extends it), and in an async call it suspends the call instead
//! of blocking the executor thread: another thread's notify completes it, and dropping the
//! call's future cancels it and leaves the wait queue.
//!
//! Each test ends a wait the old way too (a notify from a helper thread once the expected
//! outcome had its chance), so that a wait that ignores epochs fails the test rather than
//! hang it.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;
use wasmjit::*;

const WAITER: &str = r#"(module
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wait") (result i32)
    (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))
  (func (export "wait64") (result i32)
    (memory.atomic.wait64 (i32.const 8) (i64.const 0) (i64.const -1))))"#;

/// A store of an engine made from `config`, and an instance of `WAITER` in it.
fn setup(config: &mut Config, is_async: bool) -> (Store<()>, SharedMemory, Instance) {
    config.shared_memory(true).async_support(is_async);
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, WAITER).unwrap();
    let mut store = Store::new(&engine, ());
    let ty = MemoryType::shared(1, 1);
    let memory = SharedMemory::new(&engine, ty).unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .define(&store, "env", "memory", memory.clone())
        .unwrap();
    let instance = if is_async {
        let mut fut = pin!(linker.instantiate_async(&mut store, &module));
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(i) => i.unwrap(),
            Poll::Pending => panic!("instantiation does not wait"),
        }
    } else {
        linker.instantiate(&mut store, &module).unwrap()
    };
    (store, memory, instance)
}

/// Advances the epoch every millisecond until `done`; after `fallback` ticks it also
/// notifies the waiters of `addr` in `memory`, which ends a wait that ignores epochs.
fn ticker(
    engine: Engine,
    memory: SharedMemory,
    addr: u64,
    fallback: u32,
    done: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut ticks = 0;
        while !done.load(Ordering::SeqCst) {
            engine.increment_epoch();
            ticks += 1;
            if ticks >= fallback {
                memory.atomic_notify(addr, u32::MAX).unwrap();
            }
            thread::sleep(Duration::from_millis(1));
        }
    })
}

#[test]
fn an_epoch_deadline_interrupts_a_wait() {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let (mut store, memory, instance) = setup(&mut config, false);
    store.set_epoch_deadline(5);
    let done = Arc::new(AtomicBool::new(false));
    let ticks = ticker(store.engine().clone(), memory, 0, 2000, done.clone());
    let wait = instance
        .get_typed_func::<(), i32>(&mut store, "wait")
        .unwrap();
    let result = wait.call(&mut store, ());
    done.store(true, Ordering::SeqCst);
    ticks.join().unwrap();
    let err = result.expect_err("the deadline ends the wait with a trap");
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::Interrupt),
        "{err:?}"
    );
}

#[test]
fn a_deadline_callback_that_continues_keeps_the_wait_going() {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let (mut store, memory, instance) = setup(&mut config, false);
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        // Three extensions, then stop.
        Ok(if seen.fetch_add(1, Ordering::SeqCst) < 3 {
            UpdateDeadline::Continue(1)
        } else {
            UpdateDeadline::Interrupt
        })
    });
    let done = Arc::new(AtomicBool::new(false));
    let ticks = ticker(store.engine().clone(), memory, 8, 2000, done.clone());
    let wait = instance
        .get_typed_func::<(), i32>(&mut store, "wait64")
        .unwrap();
    let result = wait.call(&mut store, ());
    done.store(true, Ordering::SeqCst);
    ticks.join().unwrap();
    let err = result.expect_err("the fourth deadline ends the wait");
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::Interrupt),
        "{err:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

/// Counts its wakes.
struct CountingWaker(AtomicU32);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn an_async_wait_suspends_the_call_until_a_notify_wakes_it() {
    let (mut store, memory, instance) = setup(&mut Config::new(), true);
    let wait = instance
        .get_typed_func::<(), i32>(&mut store, "wait")
        .unwrap();
    let woken = Arc::new(CountingWaker(AtomicU32::new(0)));
    let waker = Waker::from(woken.clone());
    let mut cx = Context::from_waker(&waker);
    {
        let mut call = pin!(wait.call_async(&mut store, ()));
        // A blocking wait would not return from this poll until the notify below.
        let notifier = {
            let memory = memory.clone();
            thread::spawn(move || {
                // Until the call is queued (the poll returned), nobody is there to wake.
                while memory.atomic_notify(0, 1).unwrap() == 0 {
                    thread::sleep(Duration::from_millis(1));
                }
            })
        };
        assert!(call.as_mut().poll(&mut cx).is_pending());
        notifier.join().unwrap();
        assert!(
            woken.0.load(Ordering::SeqCst) >= 1,
            "the notify woke the task"
        );
        match call.as_mut().poll(&mut cx) {
            Poll::Ready(result) => assert_eq!(result.unwrap(), 0),
            Poll::Pending => panic!("notified, the wait is over"),
        }
    }
}

#[test]
fn dropping_an_async_wait_cancels_it_and_leaves_the_queue() {
    let (mut store, memory, instance) = setup(&mut Config::new(), true);
    let wait = instance
        .get_typed_func::<(), i32>(&mut store, "wait")
        .unwrap();
    {
        let mut call = pin!(wait.call_async(&mut store, ()));
        let fallback = {
            let memory = memory.clone();
            let done = Arc::new(AtomicBool::new(false));
            let flag = done.clone();
            // Only for a wait that blocks the poll: wake it after a while so the test fails.
            let t = thread::spawn(move || {
                for _ in 0..2000 {
                    if flag.load(Ordering::SeqCst) {
                        return;
                    }
                    thread::sleep(Duration::from_millis(1));
                }
                memory.atomic_notify(0, u32::MAX).unwrap();
            });
            (t, done)
        };
        let first = call.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        fallback.1.store(true, Ordering::SeqCst);
        fallback.0.join().unwrap();
        assert!(first.is_pending(), "the wait suspended the call");
    }
    // The dropped call left no waiter behind, and the store works.
    assert_eq!(memory.atomic_notify(0, u32::MAX).unwrap(), 0);
    let mut again = pin!(wait.call_async(&mut store, ()));
    memory.atomic_notify(0, 1).unwrap();
    assert!(again
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    assert_eq!(memory.atomic_notify(0, 1).unwrap(), 1);
    match again.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => assert_eq!(result.unwrap(), 0),
        Poll::Pending => panic!("notified, the wait is over"),
    }
}

#[test]
fn an_async_wait_with_a_timeout_times_out_without_a_notify() {
    let mut config = Config::new();
    config.async_support(true);
    config.shared_memory(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (memory 1 1 shared)
             (func (export "wait") (result i32)
               (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 1000000))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = {
        let mut fut = pin!(Instance::new_async(&mut store, &module, &[]));
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(i) => i.unwrap(),
            Poll::Pending => panic!("instantiation does not wait"),
        }
    };
    let wait = instance
        .get_typed_func::<(), i32>(&mut store, "wait")
        .unwrap();
    let woken = Arc::new(CountingWaker(AtomicU32::new(0)));
    let waker = Waker::from(woken.clone());
    let mut call = pin!(wait.call_async(&mut store, ()));
    // A blocking wait would return from the first poll, timed out.
    assert!(call
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    loop {
        let before = woken.0.load(Ordering::SeqCst);
        match call.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(result) => {
                assert_eq!(result.unwrap(), 2, "timed out");
                break;
            }
            // Polled again once the timer woke the task.
            Poll::Pending => {
                while woken.0.load(Ordering::SeqCst) == before {
                    thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
}
