//! Misuse of the async machinery from safe code never takes the process down or leaves a store
//! unusable: a leaked call future (suspended forever) leaves its store clean for later sync
//! and async calls; stack limits follow the stack wasm actually runs on (nested host→wasm
//! entries, fibers smaller than `max_wasm_stack`, a `Caller` handed to another thread);
//! frames larger than a guard page cannot jump it; a cancelled call cannot suspend again.
//!
//! Scenarios that crashed the process before these guarantees run in a child process (the
//! test binary re-run by `support::child`, through `WASMJIT_TEST_CHILD_RUNNER` under
//! an emulator), so that a crash fails one test instead of killing the run.

use crate::support::child::{child_command, in_child, run_in_child};

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
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

fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

fn trap_of(err: &Error) -> Trap {
    *err.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

/// Counts to `n` (one fuel-checked loop iteration per step) and returns `n`.
const SPIN: &str = r#"(module
  (func (export "spin") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))"#;

fn fuel_store<T>(engine: &Engine, data: T) -> Result<Store<T>> {
    let mut store = Store::new(engine, data);
    store.set_fuel(10_000_000_000)?;
    store.fuel_async_yield_interval(Some(1000))?;
    Ok(store)
}

#[test]
fn a_leaked_call_future_leaves_an_async_store_clean() {
    run_in_child(module_path!(), "child_leaked_future_async_engine");
}

/// The scenario of issue 16: a call future polled once (suspended on a fuel yield) and
/// forgotten. The store must not believe it is still on that fiber.
#[test]
#[ignore = "run in a child process by the test above"]
fn child_leaked_future_async_engine() -> Result<()> {
    if !in_child() {
        return Ok(());
    }
    let mut config = Config::new();
    config.async_support(true).consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, SPIN)?;
    let mut store = fuel_store(&engine, ())?;
    let (instance, _) = poll_to_end(pin!(Instance::new_async(&mut store, &module, &[])), 10);
    let spin = instance?.get_typed_func::<i32, i32>(&mut store, "spin")?;

    let mut f = Box::pin(spin.call_async(&mut store, 1_000_000));
    assert!(poll_once(f.as_mut()).is_pending());
    std::mem::forget(f);

    let err = spin.call(&mut store, 10).unwrap_err();
    assert!(format!("{err}").contains("async entry points"), "{err:?}");
    let (result, pending) = poll_to_end(pin!(spin.call_async(&mut store, 10_000)), 1000);
    assert_eq!(result?, 10_000);
    assert!(pending >= 9, "yields every 1000 units of fuel: {pending}");
    // And again, on the runner the last call left.
    let (result, _) = poll_to_end(pin!(spin.call_async(&mut store, 5)), 10);
    assert_eq!(result?, 5);
    Ok(())
}

#[test]
fn a_leaked_call_future_leaves_a_sync_store_usable() {
    run_in_child(module_path!(), "child_leaked_future_sync_engine");
}

/// Without `async_support` both kinds of call are allowed: after a leaked future, a sync
/// call runs on the host stack with its own limit, and async calls keep working.
#[test]
#[ignore = "run in a child process by the test above"]
fn child_leaked_future_sync_engine() -> Result<()> {
    if !in_child() {
        return Ok(());
    }
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, SPIN)?;
    let mut store = fuel_store(&engine, ())?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let spin = instance.get_typed_func::<i32, i32>(&mut store, "spin")?;
    for _ in 0..3 {
        let mut f = Box::pin(spin.call_async(&mut store, 1_000_000));
        assert!(poll_once(f.as_mut()).is_pending());
        std::mem::forget(f);
        assert_eq!(spin.call(&mut store, 10)?, 10);
        let (result, _) = poll_to_end(pin!(spin.call_async(&mut store, 10_000)), 1000);
        assert_eq!(result?, 10_000);
    }
    // A future dropped (not leaked) mid-call is cancelled and the store stays usable too.
    let mut f = Box::pin(spin.call_async(&mut store, 1_000_000));
    assert!(poll_once(f.as_mut()).is_pending());
    drop(f);
    assert_eq!(spin.call(&mut store, 7)?, 7);
    Ok(())
}

#[test]
fn the_engine_refuses_an_async_stack_smaller_than_the_wasm_stack() {
    let mut config = Config::new();
    config
        .async_support(true)
        .async_stack_size(256 << 10)
        .max_wasm_stack(256 << 10 | 1);
    let err = Engine::new(&config).unwrap_err();
    assert_eq!(
        format!("{err}"),
        "max_wasm_stack size cannot exceed the async_stack_size"
    );
    config.max_wasm_stack(0);
    let err = Engine::new(&config).unwrap_err();
    assert_eq!(format!("{err}"), "max_wasm_stack size cannot be zero");
    // Equal sizes are allowed (host code then gets the fiber's headroom), and without async
    // support the async stack size is not checked.
    config.max_wasm_stack(256 << 10);
    assert!(Engine::new(&config).is_ok());
    config.async_support(false).max_wasm_stack(1 << 20);
    assert!(Engine::new(&config).is_ok());
}

/// A small async stack (64 KiB, half of it for wasm, as Wasmtime accepts) runs calls: the
/// room kept for host code below the stack limit shrinks with the stack.
#[test]
fn a_small_async_stack_still_runs_wasm() -> Result<()> {
    let mut config = Config::new();
    config
        .async_support(true)
        .async_stack_size(64 << 10)
        .max_wasm_stack(32 << 10);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, SPIN)?;
    let mut store = Store::new(&engine, ());
    let (instance, _) = poll_to_end(pin!(Instance::new_async(&mut store, &module, &[])), 100);
    let spin = instance?.get_typed_func::<i32, i32>(&mut store, "spin")?;
    let (result, _) = poll_to_end(pin!(spin.call_async(&mut store, 1000)), 100);
    assert_eq!(result?, 1000);
    Ok(())
}

/// A recursive function whose frame is about `locals * 16` bytes: every `v128` local is live
/// across the recursive call, so each is spilled. The recursion never ends.
fn big_frame_module(locals: usize) -> String {
    let mut wat = String::from(
        "(module (memory 1)\n (func $big (export \"big\") (param $d i32) (result i32)\n",
    );
    for i in 0..locals {
        wat.push_str(&format!("  (local $v{i} v128)\n"));
    }
    for i in 0..locals {
        wat.push_str(&format!(
            "  (local.set $v{i} (v128.load offset={} (i32.const 0)))\n",
            (i * 16) % 60000
        ));
    }
    wat.push_str(
        "  (drop (call $big (i32.add (local.get $d) (i32.const 1))))\n  (v128.const i64x2 0 0)\n",
    );
    for i in 0..locals {
        wat.push_str(&format!("  (local.get $v{i}) (i32x4.add)\n"));
    }
    wat.push_str("  (i32x4.extract_lane 0)))\n");
    wat
}

#[test]
fn frames_larger_than_a_guard_page_overflow_cleanly_on_small_fibers() {
    run_in_child(module_path!(), "child_big_frames_on_small_fibers");
}

/// 40 KiB frames on fibers whose stacks are smaller than `max_wasm_stack` (allowed without
/// `async_support`, and equal sizes with it): a frame must neither be placed below the stack
/// nor jump its 4 KiB guard page; the call traps with `StackOverflow`.
#[test]
#[ignore = "run in a child process by the test above"]
fn child_big_frames_on_small_fibers() -> Result<()> {
    if !in_child() {
        return Ok(());
    }
    let wat = big_frame_module(2500);
    for async_support in [false, true] {
        let mut config = Config::new();
        config
            .async_support(async_support)
            .async_stack_size(256 << 10)
            .max_wasm_stack(if async_support { 256 << 10 } else { 1 << 20 });
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, &wat)?;
        let mut store = Store::new(&engine, ());
        let (instance, _) = poll_to_end(pin!(Instance::new_async(&mut store, &module, &[])), 10);
        let big = instance?.get_typed_func::<i32, i32>(&mut store, "big")?;
        for _ in 0..3 {
            let (result, _) = poll_to_end(pin!(big.call_async(&mut store, 0)), 10);
            assert_eq!(trap_of(&result.unwrap_err()), Trap::StackOverflow);
        }
    }
    Ok(())
}

/// Parameters of the host function `wide`.
const WIDE: usize = 900;

/// `descend(n)` recurses `n` times with small frames, then calls `$big`, which counts its
/// runs in the exported global `runs` and calls the host's `wide` with [`WIDE`] `i64`
/// arguments. The trampoline into the host stores them in a buffer of 16 bytes per value on
/// its frame, the first at the lowest address: a frame of about 14 KiB, written from its
/// bottom up.
fn descend_then_big_frame_module() -> String {
    let params = "i64 ".repeat(WIDE);
    let consts: String = (0..WIDE).map(|i| format!("(i64.const {i}) ")).collect();
    format!(
        r#"(module
  (import "" "wide" (func $wide (param {params}) (result i32)))
  (global $runs (export "runs") (mut i32) (i32.const 0))
  (func $big (result i32)
    (global.set $runs (i32.add (global.get $runs) (i32.const 1)))
    (call $wide {consts}))
  (func $descend (export "descend") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (call $big))
      (else (i32.add (call $descend (i32.sub (local.get $n) (i32.const 1))) (i32.const 0))))))"#
    )
}

/// Bytes of the read-write mapping below a [`StackWithNeighbour`]'s guard page.
const NEIGHBOUR: usize = 64 << 10;
/// What that mapping holds until something writes there.
const NEIGHBOUR_FILL: u8 = 0xa5;

/// A stack of an embedder's coroutine: usable memory above one guard page, below which lies a
/// read-write mapping (another stack, a heap), which is what a frame that jumps the guard page
/// writes into. The runtime knows nothing of this stack.
struct StackWithNeighbour {
    mapping: *mut u8,
    len: usize,
    page: usize,
    /// Set when the stack is released, if its neighbour was written to.
    written: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

// SAFETY: the mapping is owned by this object alone and freed in Drop.
unsafe impl Send for StackWithNeighbour {}
// SAFETY: as above; the methods only read the immutable fields.
unsafe impl Sync for StackWithNeighbour {}

impl StackWithNeighbour {
    fn new(size: usize, written: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let len = NEIGHBOUR + page + size.next_multiple_of(page);
        // SAFETY: a fresh private anonymous mapping.
        let mapping = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(mapping, libc::MAP_FAILED, "mmap failed");
        let mapping = mapping.cast::<u8>();
        // SAFETY: the neighbour, then the guard page, inside the mapping just made.
        unsafe {
            std::ptr::write_bytes(mapping, NEIGHBOUR_FILL, NEIGHBOUR);
            let guard = mapping.add(NEIGHBOUR).cast();
            assert_eq!(libc::mprotect(guard, page, libc::PROT_NONE), 0);
        }
        StackWithNeighbour {
            mapping,
            len,
            page,
            written,
        }
    }
}

// SAFETY: `range` is read-write memory of this object only, `top` its end, with a PROT_NONE
// guard page below (and the neighbour below that), none of which changes.
unsafe impl StackMemory for StackWithNeighbour {
    fn top(&self) -> *mut u8 {
        self.mapping.wrapping_add(self.len)
    }
    fn range(&self) -> std::ops::Range<usize> {
        self.mapping as usize + NEIGHBOUR + self.page..self.mapping as usize + self.len
    }
    fn guard_range(&self) -> std::ops::Range<*mut u8> {
        let guard = self.mapping.wrapping_add(NEIGHBOUR);
        guard..guard.wrapping_add(self.page)
    }
}

impl Drop for StackWithNeighbour {
    fn drop(&mut self) {
        // SAFETY: the neighbour is the first `NEIGHBOUR` bytes of the mapping, read-write.
        let neighbour = unsafe { std::slice::from_raw_parts(self.mapping, NEIGHBOUR) };
        if neighbour.iter().any(|&b| b != NEIGHBOUR_FILL) {
            self.written
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        // SAFETY: the mapping made in `new`, no longer used.
        unsafe { libc::munmap(self.mapping.cast(), self.len) };
    }
}

/// Calls `descend(n)` synchronously on an embedder's coroutine (a `wasmjit_fiber` fiber on a
/// [`StackWithNeighbour`] of 64 KiB), for `n` from 0 up in steps of 8 until the calls no
/// longer reach `$big`: every placement of the big frames against the guard page. The
/// runtime cannot know that stack's bounds, so the stack limit is `max_wasm_stack` below the
/// entry, below the stack: the guard page is all that stops the recursion. Returns how many
/// calls reached `$big` and whether some neighbour was written to.
fn big_frames_on_an_unknown_stack(probestack: bool) -> Result<(i32, bool)> {
    let mut config = Config::new();
    if !probestack {
        // SAFETY: only the frame probes go; the test expects what that breaks.
        unsafe { config.cranelift_flag_set("enable_probestack", "false") };
    }
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, descend_then_big_frame_module())?;
    // A thread of its own, whose first call into wasm is on the coroutine: the runtime asks
    // the system for a thread's stack once, at its first call.
    std::thread::spawn(move || {
        let mut store = Store::new(&engine, ());
        let wide = FuncType::new(&engine, vec![ValType::I64; WIDE], [ValType::I32]);
        let wide = Func::new(&mut store, wide, |_, _, results| {
            results[0] = Val::I32(0);
            Ok(())
        });
        let instance = Instance::new(&mut store, &module, &[wide.into()])?;
        let descend = instance.get_typed_func::<i32, i32>(&mut store, "descend")?;
        let runs = instance.get_global(&mut store, "runs").expect("exported");
        let written = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut last_runs = 0;
        for n in (0..).step_by(8) {
            let stack = StackWithNeighbour::new(64 << 10, written.clone());
            let on_fiber = &mut store;
            // SAFETY: the fiber runs on this thread only.
            let mut fiber = unsafe {
                wasmjit_fiber::Fiber::<(), (), Result<i32>>::new(
                    Box::new(stack) as Box<dyn StackMemory>,
                    move |(), _| descend.call(on_fiber, n),
                )?
            };
            let result = fiber.resume(()).into_return().expect("returns");
            drop(fiber);
            if let Err(err) = &result {
                assert_eq!(trap_of(err), Trap::StackOverflow);
            }
            let now = runs.get(&mut store).unwrap_i32();
            if now == last_runs {
                break;
            }
            last_runs = now;
        }
        Ok((last_runs, written.load(std::sync::atomic::Ordering::SeqCst)))
    })
    .join()
    .unwrap()
}

/// Set in the child's environment to compile without Cranelift's stack probes.
const NO_PROBES: &str = "WASMJIT_TEST_NO_PROBESTACK";

/// A frame larger than a guard page, on a stack whose bounds the runtime does not know (an
/// embedder's coroutine, where only the guard page stops a recursion): its probes
/// (Cranelift's inline probestack, one store per page, top down) fault on the guard page, and
/// the call traps with `StackOverflow` before anything is written below it.
#[test]
fn frames_larger_than_a_guard_page_never_jump_it() {
    run_in_child(module_path!(), "child_big_frames_on_an_unknown_stack");
}

/// The same without the probes (turned off through `cranelift_flag_set`), proving the
/// scenario real: the trampoline's frame jumps the guard page, writes below it, and the
/// process does not survive.
#[test]
fn without_probes_frames_larger_than_a_guard_page_jump_it() {
    let out = child_command(module_path!(), "child_big_frames_on_an_unknown_stack")
        .env(NO_PROBES, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Killed by the fault (qemu-user reports the target's signal and dies of it), or it
    // found its neighbour written to; anything else (the engine refusing the setting, say)
    // proves nothing.
    let crashed = std::os::unix::process::ExitStatusExt::signal(&out.status).is_some()
        || stderr.contains("uncaught target signal");
    assert!(
        crashed || stderr.contains("a frame wrote below the guard page"),
        "the child survived without probes: {}\n{stderr}",
        out.status
    );
}

#[test]
#[ignore = "run in a child process by the tests above"]
fn child_big_frames_on_an_unknown_stack() -> Result<()> {
    if !in_child() {
        return Ok(());
    }
    let probestack = std::env::var_os(NO_PROBES).is_none();
    let (runs, written) = big_frames_on_an_unknown_stack(probestack)?;
    assert!(runs > 10, "`$big` ran {runs} times");
    assert!(!written, "a frame wrote below the guard page");
    Ok(())
}

/// `rec(n)` calls the host's `reenter(n + 1)`, which calls `rec` again: host and wasm frames
/// alternate until the stack runs out.
const REENTER: &str = r#"(module
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (func (export "rec") (param $n i32) (result i32)
    (call $reenter (i32.add (local.get $n) (i32.const 1)))))"#;

fn reentering_linker(engine: &Engine) -> Result<Linker<u32>> {
    let mut linker = Linker::<u32>::new(engine);
    linker.func_wrap(
        "host",
        "reenter",
        |mut caller: Caller<'_, u32>, n: i32| -> Result<i32> {
            *caller.data_mut() = (*caller.data_mut()).max(n as u32);
            let rec = caller
                .get_export("rec")
                .and_then(Extern::into_func)
                .expect("rec is exported")
                .typed::<i32, i32>(&caller)?;
            rec.call(&mut caller, n)
        },
    )?;
    Ok(linker)
}

#[test]
fn host_and_wasm_recursion_overflows_cleanly() {
    run_in_child(module_path!(), "child_host_and_wasm_recursion");
}

/// Deep host→wasm→host→wasm recursion ends in `StackOverflow`, on the thread's stack, on a
/// thread's and on a fiber's stack no larger than `max_wasm_stack` (host code keeps the
/// stack's headroom below the wasm stack limit).
#[test]
#[ignore = "run in a child process by the test above"]
fn child_host_and_wasm_recursion() -> Result<()> {
    if !in_child() {
        return Ok(());
    }
    // On the thread's stack.
    let engine = Engine::default();
    let module = Module::new(&engine, REENTER)?;
    let mut store = Store::new(&engine, 0u32);
    let instance = reentering_linker(&engine)?.instantiate(&mut store, &module)?;
    let rec = instance.get_typed_func::<i32, i32>(&mut store, "rec")?;
    let err = rec.call(&mut store, 0).unwrap_err();
    assert_eq!(trap_of(&err), Trap::StackOverflow, "{err:?}");
    assert!(*store.data() > 100, "depth {}", store.data());

    // On a thread whose stack is smaller than `max_wasm_stack`: the limit stays above the
    // stack's bottom, with room for the host frames.
    *store.data_mut() = 0;
    let depth = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let err = rec.call(&mut store, 0).unwrap_err();
            assert_eq!(trap_of(&err), Trap::StackOverflow, "{err:?}");
            *store.data()
        })?
        .join()
        .unwrap();
    assert!(depth > 10, "depth {depth}");

    // On fibers.
    for (stack, max_wasm) in [(256 << 10, 256 << 10), (128 << 10, 64 << 10)] {
        let mut config = Config::new();
        config
            .async_support(true)
            .async_stack_size(stack)
            .max_wasm_stack(max_wasm);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, REENTER)?;
        let mut store = Store::new(&engine, 0u32);
        let linker = reentering_linker(&engine)?;
        let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)), 10);
        let rec = instance?.get_typed_func::<i32, i32>(&mut store, "rec")?;
        for _ in 0..2 {
            let (result, _) = poll_to_end(pin!(rec.call_async(&mut store, 0)), 10);
            let err = result.unwrap_err();
            assert_eq!(trap_of(&err), Trap::StackOverflow, "{err:?}");
            assert!(*store.data() > 10, "depth {}", store.data());
        }
    }
    Ok(())
}

/// `inner` spins (yielding on fuel); `outer` calls the host's `retry`, which calls `inner`
/// again whenever it fails, up to 20 times.
const RETRY: &str = r#"(module
  (import "host" "retry" (func $retry))
  (func (export "inner") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100000000)))))
  (func (export "outer") (call $retry)))"#;

/// Failed attempts of `retry`, and calls the call hook saw enter the store's functions.
#[derive(Default)]
struct Attempts {
    failed: u32,
    calls: u32,
}

/// Dropping a future cancels its call, and a cancelled call cannot suspend again: a host
/// function that ignores the cancellation error and calls wasm again fails at once, without
/// entering the function, instead of making the drop resume the fiber again (without end,
/// for a host that retries forever).
#[test]
fn a_cancelled_call_fails_fast_even_when_the_host_retries() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true).consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, RETRY)?;
    let mut linker = Linker::<Attempts>::new(&engine);
    linker.func_wrap_async(
        "host",
        "retry",
        |mut caller: Caller<'_, Attempts>, (): ()| {
            Box::new(async move {
                let inner = caller
                    .get_export("inner")
                    .and_then(Extern::into_func)
                    .expect("inner is exported")
                    .typed::<(), ()>(&caller)
                    .expect("inner's type");
                for _ in 0..20 {
                    if inner.call_async(&mut caller, ()).await.is_err() {
                        caller.data_mut().failed += 1;
                    }
                }
            })
        },
    )?;
    let mut store = fuel_store(&engine, Attempts::default())?;
    store.call_hook(|mut cx, hook| {
        if hook == CallHook::CallingWasm {
            cx.data_mut().calls += 1;
        }
        Ok(())
    });
    let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)), 10);
    let instance = instance?;
    let outer = instance.get_typed_func::<(), ()>(&mut store, "outer")?;

    let mut f = Box::pin(outer.call_async(&mut store, ()));
    assert!(poll_once(f.as_mut()).is_pending());
    drop(f);
    assert_eq!(store.data().failed, 20, "every attempt failed");
    assert_eq!(
        store.data().calls,
        2,
        "only `outer` and the first `inner` were entered"
    );

    // The store and its runner still work.
    let inner = instance.get_typed_func::<(), ()>(&mut store, "inner")?;
    let mut f = Box::pin(inner.call_async(&mut store, ()));
    assert!(poll_once(f.as_mut()).is_pending());
    drop(f);
    assert_eq!(store.data().calls, 3);
    Ok(())
}

#[test]
fn a_caller_moved_to_another_thread_calls_wasm_safely() {
    run_in_child(module_path!(), "child_caller_on_another_thread");
}

/// A `Caller` is `Send` (async host functions hold it in `Send` futures), so a host function
/// may hand it to a scoped thread. Calls made there run on that thread's stack: an async one
/// must start a fiber of its own rather than suspend the fiber waiting in the host function,
/// and a sync one must get a stack limit for the thread it runs on.
#[test]
#[ignore = "run in a child process by the test above"]
fn child_caller_on_another_thread() -> Result<()> {
    if !in_child() {
        return Ok(());
    }
    const GUEST: &str = r#"(module
      (import "host" "offload" (func $offload (param i32) (result i32)))
      (func $spin (export "spin") (param $n i32) (result i32) (local $i i32)
        (loop $l
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $i))
      (func $down (export "down") (param $n i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n))
          (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $down (i32.sub (local.get $n) (i32.const 1)))))))
      (func (export "run") (param $n i32) (result i32) (call $offload (local.get $n))))"#;

    // Async: the fiber waits in `offload` while another thread drives a call of the store.
    let mut config = Config::new();
    config.async_support(true).consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, GUEST)?;
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap_async(
        "host",
        "offload",
        |mut caller: Caller<'_, ()>, (n,): (i32,)| {
            Box::new(async move {
                let spin = caller
                    .get_export("spin")
                    .and_then(Extern::into_func)
                    .unwrap()
                    .typed::<i32, i32>(&caller)
                    .unwrap();
                std::thread::scope(|s| {
                    s.spawn(|| poll_to_end(pin!(spin.call_async(&mut caller, n)), 10_000).0)
                        .join()
                        .unwrap()
                })
                .unwrap()
            })
        },
    )?;
    let mut store = fuel_store(&engine, ())?;
    let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)), 10);
    let run = instance?.get_typed_func::<i32, i32>(&mut store, "run")?;
    let (result, _) = poll_to_end(pin!(run.call_async(&mut store, 5000)), 10_000);
    assert_eq!(result?, 5000);

    // Sync: wasm recursing on the other thread gets that thread's stack limit.
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST)?;
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap(
        "host",
        "offload",
        |mut caller: Caller<'_, ()>, n: i32| -> Result<i32> {
            let down = caller
                .get_export("down")
                .and_then(Extern::into_func)
                .unwrap()
                .typed::<i32, i32>(&caller)?;
            std::thread::scope(|s| s.spawn(|| down.call(&mut caller, n)).join().unwrap())
        },
    )?;
    let mut store = Store::new(&engine, ());
    let run = linker
        .instantiate(&mut store, &module)?
        .get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 1000)?, 1000);
    let err = run.call(&mut store, i32::MAX).unwrap_err();
    assert_eq!(trap_of(&err), Trap::StackOverflow, "{err:?}");
    assert_eq!(run.call(&mut store, 10)?, 10);
    Ok(())
}

/// The guest of the random sequences: `spin` counts (yielding on fuel), `trap` traps, `boom`
/// calls a host function that panics, `wait` awaits an async host function that is pending
/// once (then `spin`s), `again` calls a host function that calls `spin` back.
const MIX: &str = r#"(module
  (import "host" "boom" (func $boom))
  (import "host" "wait" (func $wait (result i32)))
  (import "host" "again" (func $again (param i32) (result i32)))
  (func $spin (export "spin") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  (func (export "trap") (param i32) (result i32) unreachable)
  (func (export "boom") (param i32) (result i32) (call $boom) (local.get 0))
  (func (export "wait") (param $n i32) (result i32)
    (i32.add (call $wait) (call $spin (local.get $n))))
  (func (export "again") (param $n i32) (result i32) (call $again (local.get $n))))"#;

/// Pending on its first poll (waking the task), then ready with 1.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = i32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<i32> {
        if self.0 {
            return Poll::Ready(1);
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn mix_linker(engine: &Engine) -> Result<Linker<()>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap("host", "boom", || -> () { panic!("boom") })?;
    linker.func_wrap_async("host", "wait", |_: Caller<'_, ()>, (): ()| {
        Box::new(PendingOnce(false))
    })?;
    linker.func_wrap(
        "host",
        "again",
        |mut caller: Caller<'_, ()>, n: i32| -> Result<i32> {
            let spin = caller
                .get_export("spin")
                .and_then(Extern::into_func)
                .expect("spin is exported")
                .typed::<i32, i32>(&caller)?;
            spin.call(&mut caller, n)
        },
    )?;
    Ok(linker)
}

/// A store of the random sequences and its guest's functions, by name.
struct MixStore {
    store: Store<()>,
    /// Whether the engine has `async_support` (sync calls are refused).
    async_only: bool,
    funcs: Vec<(&'static str, TypedFunc<i32, i32>)>,
    leaked: usize,
}

/// What a call of `name` with `n` must give: `Ok(value)`, or an error containing the text.
fn expected(name: &str, n: i32, sync: bool) -> std::result::Result<i32, &'static str> {
    let n = n.max(1);
    match name {
        "spin" | "again" => Ok(n),
        "trap" => Err("unreachable"),
        "boom" => Err("panic: boom"),
        "wait" if sync => Err("call_async"),
        "wait" => Ok(n + 1),
        _ => unreachable!(),
    }
}

/// Checks one finished call (a panic caught as `Err("panic: ...")`).
fn check(name: &str, n: i32, sync: bool, got: std::thread::Result<Result<i32>>) {
    let got = match got {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{e:?}")),
        Err(payload) => Err(format!(
            "panic: {}",
            payload.downcast_ref::<&str>().copied().unwrap_or("?")
        )),
    };
    match (expected(name, n, sync), &got) {
        (Ok(want), Ok(v)) => assert_eq!(*v, want, "{name}({n})"),
        (Err(want), Err(e)) => assert!(e.contains(want), "{name}({n}): {e}"),
        (want, got) => panic!("{name}({n}): expected {want:?}, got {got:?}"),
    }
}

/// Random sequences of calls (sync, async to completion, async polled a few times then
/// dropped or leaked) of functions that return, trap, panic in a host function, wait on an
/// async host function or re-enter wasm, on a store of an async engine and one of a sync
/// engine: every call gives its expected result and the store stays usable. Deterministic
/// (fixed seeds); the leaked futures are few (each keeps its fiber stack). In a child
/// process: leaked futures crashed the process before the store let go of their fibers.
#[test]
fn random_sequences_of_calls_keep_stores_usable() {
    run_in_child(module_path!(), "child_random_sequences_of_calls");
}

#[test]
#[ignore = "run in a child process by the test above"]
fn child_random_sequences_of_calls() -> Result<()> {
    if !in_child() {
        return Ok(());
    }
    let mut stores = Vec::new();
    for async_only in [true, false] {
        let mut config = Config::new();
        config.async_support(async_only).consume_fuel(true);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, MIX)?;
        let linker = mix_linker(&engine)?;
        let mut store = Store::new(&engine, ());
        store.set_fuel(u64::MAX / 2)?;
        store.fuel_async_yield_interval(Some(500))?;
        let (instance, _) = poll_to_end(pin!(linker.instantiate_async(&mut store, &module)), 10);
        let instance = instance?;
        let mut funcs = Vec::new();
        for name in ["spin", "trap", "boom", "wait", "again"] {
            funcs.push((name, instance.get_typed_func::<i32, i32>(&mut store, name)?));
        }
        stores.push(MixStore {
            store,
            async_only,
            funcs,
            leaked: 0,
        });
    }
    for seed in 1..=4u64 {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for _ in 0..150 {
            let s = &mut stores[next(2) as usize];
            let (name, f) = s.funcs[next(s.funcs.len() as u64) as usize];
            let n = next(3000) as i32;
            let store = &mut s.store;
            match next(4) {
                0 => {
                    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        f.call(&mut *store, n)
                    }));
                    if s.async_only {
                        let err = got.expect("refused, not run").unwrap_err();
                        assert!(format!("{err}").contains("async entry points"), "{err}");
                    } else {
                        check(name, n, true, got);
                    }
                }
                1 => {
                    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        poll_to_end(pin!(f.call_async(&mut *store, n)), 100).0
                    }));
                    check(name, n, false, got);
                }
                _ => {
                    let polls = 1 + next(3);
                    let leak = next(8) == 0 && s.leaked < 3;
                    let mut fut = Box::pin(f.call_async(&mut *store, n));
                    let mut done = None;
                    for _ in 0..polls {
                        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            poll_once(fut.as_mut())
                        }));
                        match polled {
                            Ok(Poll::Pending) => continue,
                            Ok(Poll::Ready(v)) => done = Some(Ok(v)),
                            Err(payload) => done = Some(Err(payload)),
                        }
                        break;
                    }
                    match done {
                        Some(got) => check(name, n, false, got),
                        None if leak => {
                            std::mem::forget(fut);
                            s.leaked += 1;
                        }
                        None => drop(fut),
                    }
                }
            }
            // The store still works, both ways its engine allows.
            let (spin, store) = (s.funcs[0].1, &mut s.store);
            let (got, _) = poll_to_end(pin!(spin.call_async(&mut *store, 3)), 10);
            assert_eq!(got?, 3);
            if !s.async_only {
                assert_eq!(spin.call(&mut *store, 4)?, 4);
            }
        }
    }
    Ok(())
}
