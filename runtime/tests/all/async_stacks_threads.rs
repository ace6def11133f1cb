//! Where and on which thread async calls run: a custom `StackCreator`'s memory is the stack
//! wasm and host functions run on (asked once per new call, never for a callback into wasm);
//! with the engine's pool, a store keeps its stack from one call to the next;
//! unbounded recursion under `call_async` traps with `StackOverflow` (also on small async
//! stacks) and leaves the store usable; a panic in an async host future resumes in the poller
//! and leaves the store usable; a call suspended on one thread finishes on another, where
//! traps (signal-based and explicit) are still caught.

use crate::support::child::{in_child, run_in_child};

use std::future::Future;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::ThreadId;
use wasmjit::*;
// `StackCreator` and `StackMemory` come from the root, where Wasmtime has them.

/// Polls `fut` to completion with a no-op waker; returns its output and the pending count.
fn poll_to_end<F: Future + ?Sized>(mut fut: Pin<&mut F>) -> (F::Output, usize) {
    let mut cx = Context::from_waker(Waker::noop());
    for pending in 0..10_000 {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return (v, pending);
        }
    }
    panic!("still pending after 10 000 polls");
}

fn trap_of(err: &Error) -> Trap {
    *err.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

/// A future that is pending `n` times (waking itself) before completing.
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

// ---------------------------------------------------------------------------------------------
// A custom stack creator.

/// An mmap'd stack with one inaccessible guard page below it.
struct GuardedStack {
    base: *mut u8,
    mapped: usize,
    page: usize,
}

// SAFETY: the mapping is owned by this object alone and freed in Drop.
unsafe impl Send for GuardedStack {}
// SAFETY: as above; the methods only read the immutable fields.
unsafe impl Sync for GuardedStack {}

// SAFETY: `range` is read-write memory owned by the object, `top` is its end, the guard page
// below it is PROT_NONE, and nothing changes after creation.
unsafe impl StackMemory for GuardedStack {
    fn top(&self) -> *mut u8 {
        // SAFETY: one past the end of the mapping.
        unsafe { self.base.add(self.mapped) }
    }
    fn range(&self) -> Range<usize> {
        self.base as usize + self.page..self.base as usize + self.mapped
    }
    fn guard_range(&self) -> Range<*mut u8> {
        // SAFETY: the first page of the mapping.
        self.base..unsafe { self.base.add(self.page) }
    }
}

impl Drop for GuardedStack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new_stack`.
        unsafe { libc::munmap(self.base.cast(), self.mapped) };
    }
}

/// Records every stack it hands out.
#[derive(Default)]
struct TrackingCreator {
    calls: AtomicUsize,
    /// (requested size, zeroed, usable range) of every stack created.
    made: Mutex<Vec<(usize, bool, Range<usize>)>>,
}

impl TrackingCreator {
    fn last_range(&self) -> Range<usize> {
        self.made.lock().unwrap().last().unwrap().2.clone()
    }
}

// SAFETY: every stack is a fresh anonymous mapping (so zeroed), at least `size` bytes, with a
// guard page below.
unsafe impl StackCreator for TrackingCreator {
    fn new_stack(&self, size: usize, zeroed: bool) -> Result<Box<dyn StackMemory>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let mapped = size.next_multiple_of(page) + page;
        // SAFETY: a fresh private anonymous mapping.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        anyhow::ensure!(base != libc::MAP_FAILED, "mmap failed");
        let stack = GuardedStack {
            base: base.cast(),
            mapped,
            page,
        };
        // SAFETY: everything above the guard page, inside the mapping just made.
        let ok = unsafe {
            libc::mprotect(
                base.cast::<u8>().add(page).cast(),
                mapped - page,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        anyhow::ensure!(ok == 0, "mprotect failed");
        self.made
            .lock()
            .unwrap()
            .push((size, zeroed, stack.range()));
        Ok(Box::new(stack))
    }
}

/// Asks for no stack: every call fails to start.
struct FailingCreator;
// SAFETY: never returns a stack.
unsafe impl StackCreator for FailingCreator {
    fn new_stack(&self, _size: usize, _zeroed: bool) -> Result<Box<dyn StackMemory>> {
        anyhow::bail!("no stacks today")
    }
}

/// Where `host.where` found its local, and whether it was called back from a nested call.
#[derive(Default)]
struct Seen {
    addrs: Vec<usize>,
}

const WHERE_GUEST: &str = r#"(module
  (import "host" "where" (func $where))
  (import "host" "nested" (func $nested))
  (func $start (call $where))
  (start $start)
  (func (export "run") (call $where))
  (func (export "run_nested") (call $nested)))"#;

#[test]
fn custom_stack_creator_provides_the_stack_each_new_call_runs_on() -> Result<()> {
    const STACK: usize = 1 << 20;
    let creator = Arc::new(TrackingCreator::default());
    let mut config = Config::new();
    config
        .async_support(true)
        .async_stack_size(STACK)
        .async_stack_zeroing(true)
        .with_host_stack(creator.clone());
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<Seen>::new(&engine);
    linker.func_wrap("host", "where", |mut caller: Caller<'_, Seen>| {
        let local = 0u64;
        let addr = std::hint::black_box(&local) as *const u64 as usize;
        caller.data_mut().addrs.push(addr);
    })?;
    linker.func_wrap_async("host", "nested", |mut caller: Caller<'_, Seen>, (): ()| {
        Box::new(async move {
            let run = caller
                .get_export("run")
                .and_then(Extern::into_func)
                .unwrap()
                .typed::<(), ()>(&caller)?;
            run.call_async(&mut caller, ()).await
        })
    })?;
    let module = Module::new(&engine, WHERE_GUEST)?;
    let mut store = Store::new(&engine, Seen::default());

    // Instantiation (running the start function) takes a stack.
    let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)));
    let instance = instance?;
    assert_eq!(creator.calls.load(Ordering::SeqCst), 1);
    assert!(creator.last_range().contains(&store.data().addrs[0]));

    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
    let run_nested = instance.get_typed_func::<(), ()>(&mut store, "run_nested")?;
    for call in 0..3 {
        let (r, _) = poll_to_end(pin!(run.call_async(&mut store, ())));
        r?;
        assert_eq!(
            creator.calls.load(Ordering::SeqCst),
            2 + call,
            "one stack per call"
        );
        let addr = *store.data().addrs.last().unwrap();
        let range = creator.last_range();
        assert!(
            range.contains(&addr),
            "host local at {addr:#x} is not on the creator's stack {range:#x?}"
        );
    }
    // A callback into wasm from an async host function stays on the call's stack.
    let (r, _) = poll_to_end(pin!(run_nested.call_async(&mut store, ())));
    r?;
    assert_eq!(creator.calls.load(Ordering::SeqCst), 5);
    assert!(creator
        .last_range()
        .contains(store.data().addrs.last().unwrap()));

    for (size, zeroed, range) in creator.made.lock().unwrap().iter() {
        assert_eq!(*size, STACK);
        assert!(*zeroed, "async_stack_zeroing asks for zeroed stacks");
        assert!(range.len() >= STACK);
    }
    Ok(())
}

#[test]
fn a_failing_stack_creator_fails_the_call_without_panicking() -> Result<()> {
    let mut config = Config::new();
    config
        .async_support(true)
        .with_host_stack(Arc::new(FailingCreator));
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, r#"(module (func (export "f")))"#)?;
    let mut store = Store::new(&engine, ());
    let (r, pending) = poll_to_end(pin!(Instance::new_async(&mut store, &module, &[])));
    assert_eq!(pending, 0);
    let err = r.unwrap_err();
    assert!(format!("{err:?}").contains("no stacks today"), "{err:?}");
    Ok(())
}

#[test]
fn each_store_keeps_its_pooled_stack_from_one_call_to_the_next() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<Vec<usize>>::new(&engine);
    linker.func_wrap("host", "where", |mut caller: Caller<'_, Vec<usize>>| {
        let local = 0u64;
        let addr = std::hint::black_box(&local) as *const u64 as usize;
        caller.data_mut().push(addr);
    })?;
    let module = Module::new(&engine, WHERE_GUEST_POOLED)?;
    let mut stores = Vec::new();
    for _ in 0..2 {
        let mut store = Store::new(&engine, Vec::new());
        let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)));
        let run = instance?.get_typed_func::<(), ()>(&mut store, "run")?;
        stores.push((store, run));
    }
    // Interleaved, so that a stack going back to the engine's pool after each call would be
    // the next call's, whichever store makes it.
    for _ in 0..3 {
        for (store, run) in &mut stores {
            let (r, _) = poll_to_end(pin!(run.call_async(&mut *store, ())));
            r?;
        }
    }
    let (a, b) = (stores[0].0.data(), stores[1].0.data());
    assert_eq!(a.len(), 3);
    assert!(
        a.iter().all(|&x| x == a[0]),
        "one stack, same depth: {a:#x?}"
    );
    assert!(
        b.iter().all(|&x| x == b[0]),
        "one stack, same depth: {b:#x?}"
    );
    assert!(
        a[0].abs_diff(b[0]) > 64 << 10,
        "two stores, two stacks: {:#x} {:#x}",
        a[0],
        b[0]
    );
    Ok(())
}

const WHERE_GUEST_POOLED: &str = r#"(module
  (import "host" "where" (func $where))
  (func (export "run") (call $where)))"#;

// ---------------------------------------------------------------------------------------------
// Stack overflow on a fiber.

const RECURSE: &str = r#"(module
  (import "host" "reenter" (func $reenter (result i32)))
  (func $r (export "recurse") (param i32) (result i32)
    (i32.add (call $r (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "recurse_from_host") (result i32) (call $reenter))
  (func (export "ok") (result i32) (i32.const 7)))"#;

fn overflow_case(stack: Option<(usize, usize)>) -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    if let Some((async_stack, wasm_stack)) = stack {
        config
            .async_stack_size(async_stack)
            .max_wasm_stack(wasm_stack);
    }
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap_async("host", "reenter", |mut caller: Caller<'_, ()>, (): ()| {
        Box::new(async move {
            let f = caller
                .get_export("recurse")
                .and_then(Extern::into_func)
                .unwrap()
                .typed::<i32, i32>(&caller)?;
            f.call_async(&mut caller, 0).await
        })
    })?;
    let module = Module::new(&engine, RECURSE)?;
    let mut store = Store::new(&engine, ());
    let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)));
    let instance = instance?;
    let recurse = instance.get_typed_func::<i32, i32>(&mut store, "recurse")?;
    let from_host = instance.get_typed_func::<(), i32>(&mut store, "recurse_from_host")?;
    let ok = instance.get_typed_func::<(), i32>(&mut store, "ok")?;
    for _ in 0..3 {
        let (r, _) = poll_to_end(pin!(recurse.call_async(&mut store, 0)));
        assert_eq!(trap_of(&r.unwrap_err()), Trap::StackOverflow);
        let (r, _) = poll_to_end(pin!(ok.call_async(&mut store, ())));
        assert_eq!(r?, 7);
        let (r, _) = poll_to_end(pin!(from_host.call_async(&mut store, ())));
        assert_eq!(trap_of(&r.unwrap_err()), Trap::StackOverflow);
        let (r, _) = poll_to_end(pin!(ok.call_async(&mut store, ())));
        assert_eq!(r?, 7);
    }
    Ok(())
}

#[test]
fn stack_overflow_on_a_default_fiber_traps_and_the_store_stays_usable() -> Result<()> {
    overflow_case(None)
}

#[test]
fn stack_overflow_on_a_256k_fiber_with_128k_wasm_stack_traps() -> Result<()> {
    overflow_case(Some((256 << 10, 128 << 10)))
}

#[test]
fn stack_overflow_into_the_fibers_guard_page_still_traps() {
    run_in_child(module_path!(), "child_overflow_into_the_guard_page");
}

/// With `async_stack_size == max_wasm_stack` the limit check lies below the fiber's stack, so
/// recursion faults on the guard page instead; the handler (on the alternate signal stack)
/// must still turn that into `StackOverflow`.
#[test]
#[ignore = "run in a child process by the test above"]
fn child_overflow_into_the_guard_page() -> Result<()> {
    if !in_child() {
        return Ok(());
    }
    overflow_case(Some((128 << 10, 128 << 10)))
}

// ---------------------------------------------------------------------------------------------
// Panics in async host futures.

#[test]
fn a_panic_in_an_async_host_future_resumes_in_the_poller_and_the_store_stays_usable() -> Result<()>
{
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<()>::new(&engine);
    // mode 1: panic on the first poll; mode 2: panic after being pending twice.
    linker.func_wrap_async(
        "host",
        "maybe_panic",
        |_: Caller<'_, ()>, (mode,): (i32,)| {
            Box::new(async move {
                if mode == 1 {
                    panic!("host future panicked at once");
                }
                PendingN(2).await;
                if mode == 2 {
                    panic!("host future panicked after resuming");
                }
                mode + 100
            })
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module (import "host" "maybe_panic" (func $p (param i32) (result i32)))
             (func (export "run") (param i32) (result i32) (call $p (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)));
    let run = instance?.get_typed_func::<i32, i32>(&mut store, "run")?;
    for (mode, message, polls_before) in [
        (1, "host future panicked at once", 0),
        (2, "host future panicked after resuming", 2),
    ] {
        let mut pending = 0;
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let mut fut = pin!(run.call_async(&mut store, mode));
            let mut cx = Context::from_waker(Waker::noop());
            loop {
                match fut.as_mut().poll(&mut cx) {
                    Poll::Ready(r) => return r,
                    Poll::Pending => pending += 1,
                }
            }
        }));
        let payload = caught.expect_err("the panic must reach the poller");
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert_eq!(text, message);
        assert_eq!(pending, polls_before);
        let (r, pending) = poll_to_end(pin!(run.call_async(&mut store, 0)));
        assert_eq!(r?, 100);
        assert_eq!(pending, 2);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Moving a suspended call to another thread.

const MOVE_GUEST: &str = r#"(module
  (import "host" "wait" (func $wait))
  (memory 1)
  (func $r (param i32) (result i32)
    (i32.add (call $r (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "run") (param $mode i32) (result i32)
    (call $wait)
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then (drop (i32.load (i32.const -16)))))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then unreachable))
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then (drop (i32.div_s (i32.const 1) (i32.sub (local.get $mode) (i32.const 3))))))
    (if (i32.eq (local.get $mode) (i32.const 4))
      (then (drop (call $r (i32.const 0)))))
    (i32.add (local.get $mode) (i32.const 40))))"#;

#[test]
fn a_call_suspended_on_one_thread_finishes_and_traps_on_another() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<Vec<ThreadId>>::new(&engine);
    // Records the thread before and after being pending once.
    linker.func_wrap_async(
        "host",
        "wait",
        |mut caller: Caller<'_, Vec<ThreadId>>, (): ()| {
            Box::new(async move {
                caller.data_mut().push(std::thread::current().id());
                PendingN(1).await;
                caller.data_mut().push(std::thread::current().id());
            })
        },
    )?;
    let module = Module::new(&engine, MOVE_GUEST)?;
    let mut store = Store::new(&engine, Vec::new());
    let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)));
    let run = instance?.get_typed_func::<i32, i32>(&mut store, "run")?;
    let here = std::thread::current().id();

    for (mode, expected) in [
        (0, None),
        (1, Some(Trap::MemoryOutOfBounds)),
        (2, Some(Trap::UnreachableCodeReached)),
        (3, Some(Trap::IntegerDivisionByZero)),
        (4, Some(Trap::StackOverflow)),
    ] {
        store.data_mut().clear();
        let there = std::thread::scope(|s| {
            let mut fut = Box::pin(run.call_async(&mut store, mode));
            let mut cx = Context::from_waker(Waker::noop());
            assert!(
                fut.as_mut().poll(&mut cx).is_pending(),
                "suspends on thread A"
            );
            s.spawn(move || {
                let (r, pending) = poll_to_end(fut.as_mut());
                assert_eq!(pending, 0);
                match expected {
                    None => assert_eq!(r.unwrap(), mode + 40),
                    Some(trap) => assert_eq!(trap_of(&r.unwrap_err()), trap, "mode {mode}"),
                }
                std::thread::current().id()
            })
            .join()
            .unwrap()
        });
        assert_ne!(here, there);
        assert_eq!(store.data().as_slice(), &[here, there], "mode {mode}");
    }
    // Back on this thread, the store works and traps are still caught here.
    let (r, _) = poll_to_end(pin!(run.call_async(&mut store, 2)));
    assert_eq!(trap_of(&r.unwrap_err()), Trap::UnreachableCodeReached);
    let (r, _) = poll_to_end(pin!(run.call_async(&mut store, 0)));
    assert_eq!(r?, 40);
    Ok(())
}

type CallFuture = Pin<Box<dyn Future<Output = Result<i32>> + Send>>;

#[test]
fn a_call_finishing_on_another_thread_leaves_the_first_threads_trap_handling_intact() {
    run_in_child(module_path!(), "child_call_finishing_on_another_thread");
}

/// Thread A starts an async call (it suspends inside wasm), then makes a sync call of another
/// store; while A is inside that call, thread B finishes the async call. Back on A, the sync
/// call's wasm traps: the trap must still be caught on A. (`catch_traps` restoring the chain
/// of the thread it *started* on, through a thread-local address cached across the suspension,
/// would clear A's chain from B, and the trap would kill the process.)
#[test]
#[ignore = "run in a child process by the test above"]
fn child_call_finishing_on_another_thread() -> Result<()> {
    if !in_child() {
        return Ok(());
    }
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<Vec<ThreadId>>::new(&engine);
    linker.func_wrap_async("host", "wait", |_: Caller<'_, Vec<ThreadId>>, (): ()| {
        Box::new(PendingN(1))
    })?;
    let module = Module::new(&engine, MOVE_GUEST)?;
    let store: &'static mut Store<Vec<ThreadId>> = Box::leak(Box::new(Store::new(&engine, vec![])));
    let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut *store, &module)));
    let run = instance?.get_typed_func::<i32, i32>(&mut *store, "run")?;
    let mut fut: CallFuture = Box::pin(async move { run.call_async(store, 0).await });
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    let parked = Arc::new(Mutex::new(Some(fut)));

    let sync_engine = Engine::default();
    let sync_module = Module::new(
        &sync_engine,
        r#"(module (import "host" "hop" (func $hop))
             (func (export "hop_then_trap") (call $hop) unreachable))"#,
    )?;
    let mut sync_store = Store::new(&sync_engine, ());
    let hop = Func::wrap(&mut sync_store, move || {
        let fut = parked.lock().unwrap().take().unwrap();
        let r = std::thread::spawn(move || {
            let mut fut = fut;
            poll_to_end(fut.as_mut()).0.unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(r, 40);
    });
    let instance = Instance::new(&mut sync_store, &sync_module, &[hop.into()])?;
    let f = instance.get_typed_func::<(), ()>(&mut sync_store, "hop_then_trap")?;
    let err = f.call(&mut sync_store, ()).unwrap_err();
    assert_eq!(trap_of(&err), Trap::UnreachableCodeReached);
    Ok(())
}
