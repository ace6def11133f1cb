//! Async execution: wasm runs on a fiber so that a call can suspend (fuel yield, epoch yield,
//! a pending async host function) and resume when its future is polled again.
//!
//! - [`on_fiber`] runs a store operation on a fiber and returns it as a future
//!   ([`FiberFuture`]); each poll resumes the fiber with the poll's `Context` reachable from
//!   the store, and `Poll::Pending` means the fiber suspended.
//! - Code on the fiber suspends through [`StoreOpaque::async_yield`] or [`block_on`]; the
//!   trap handler's per-thread call chain is swapped out on suspension and back in on resume,
//!   so a call may resume on another thread.
//! - Dropping a future mid-call resumes the fiber with [`FiberResume::Cancel`]: the
//!   suspension point returns an error, which leaves the wasm frames as a trap, and the fiber
//!   finishes normally, leaving the store usable.

mod entry_points;
mod host;

use crate::store::StoreOpaque;
use crate::vm::traphandlers::{swap_call_states, CallStates};
use anyhow::{anyhow, bail, Result};
use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasmjit_fiber::{Fiber, FiberResult, Suspend};

/// What a suspended fiber is resumed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FiberResume {
    /// The future was polled: continue.
    Poll,
    /// The future was dropped: unwind the call.
    Cancel,
}

/// How code on a fiber reaches its future: set in the store while the fiber runs a call.
pub(crate) struct AsyncCx {
    /// Suspends the fiber; returns what it was resumed with.
    suspend: Cell<Option<*const (dyn Fn() -> FiberResume + 'static)>>,
    /// The `Context` of the poll currently running the fiber (null between polls).
    poll_cx: Cell<*mut Context<'static>>,
    /// The trap handler's call chain of the thread that resumed the fiber.
    outer_states: Cell<Option<CallStates>>,
}

/// Swaps this thread's trap-handler call chain (see [`swap_call_states`]).
///
/// Never inlined, and every swap on a fiber goes through it: a fiber may resume on another
/// thread than the one it suspended on, and LLVM treats a thread-local's address as constant
/// within a function, so a swap inlined next to a suspension point reuses the address computed
/// before it and writes the old thread's chain (leaving the new thread's traps uncaught).
#[inline(never)]
fn swap_thread_call_states(states: CallStates) -> CallStates {
    swap_call_states(states)
}

/// Suspends the fiber running `cx` until its future is polled again. Errors when the future
/// was dropped instead.
///
/// # Safety
/// Must run on the fiber that owns `cx`, while it runs.
pub(crate) unsafe fn suspend_fiber(cx: *const AsyncCx) -> Result<()> {
    // SAFETY: the caller runs on the fiber owning `cx`, which outlives the fiber.
    let cx = unsafe { &*cx };
    let Some(suspend) = cx.suspend.get() else {
        bail!("async context is not running");
    };
    let mine = swap_thread_call_states(cx.outer_states.take().unwrap_or(CallStates::EMPTY));
    // SAFETY: `suspend` points to the closure on the fiber's root frame, alive while it runs.
    let resumed = unsafe { (*suspend)() };
    cx.outer_states.set(Some(swap_thread_call_states(mine)));
    match resumed {
        FiberResume::Poll => Ok(()),
        FiberResume::Cancel => Err(anyhow!("the async call was cancelled")),
    }
}

/// Polls `future` once. Never inlined, for the reason given at [`swap_thread_call_states`]:
/// inlined into `block_on`'s loop, the future's own thread-local accesses (a runtime's context,
/// say) could be hoisted out of it and reach the thread of an earlier poll after the fiber moved.
#[inline(never)]
fn poll_on_fiber<F: Future + ?Sized>(future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
    future.poll(cx)
}

/// Polls `future` to completion from code running on a fiber, suspending the fiber whenever
/// it is pending; the waker of the current poll reaches the future.
///
/// # Safety
/// Must run on the fiber that owns `cx`, inside a poll of its future.
pub(crate) unsafe fn block_on<F: Future + ?Sized>(
    cx: *const AsyncCx,
    mut future: Pin<&mut F>,
) -> Result<F::Output> {
    loop {
        // SAFETY: `cx` is live (caller's guarantee); `poll_cx` is set for the duration of the
        // poll that resumed this fiber.
        let poll_cx = unsafe { (*cx).poll_cx.get() };
        if poll_cx.is_null() {
            bail!("the async call was cancelled");
        }
        // SAFETY: as above; nothing else uses the context while the fiber runs.
        if let Poll::Ready(v) = poll_on_fiber(future.as_mut(), unsafe { &mut *poll_cx }) {
            return Ok(v);
        }
        // SAFETY: forwarded from the caller.
        unsafe { suspend_fiber(cx)? };
    }
}

impl StoreOpaque {
    /// Suspends the running async call until its future is polled again. The waker is woken
    /// first: nothing else will, since this is a yield, not a wait.
    pub(crate) fn async_yield(&mut self) -> Result<()> {
        match self.async_cx {
            // SAFETY: `async_cx` is set only while the fiber owning it runs this store's call,
            // and this runs on that fiber, inside a poll (`poll_cx` is set).
            Some(cx) => unsafe {
                let poll_cx = (*cx).poll_cx.get();
                if !poll_cx.is_null() {
                    (*poll_cx).waker().wake_by_ref();
                }
                suspend_fiber(cx)
            },
            None => bail!("cannot yield: wasm was not called through an async entry point"),
        }
    }

    /// Errors for a sync entry point on a store of an async engine (outside its fibers).
    pub(crate) fn check_sync_allowed(&self) -> Result<()> {
        if self.engine.config().async_support && self.async_cx.is_none() {
            bail!("must use the async entry points (`call_async`, `instantiate_async`) when async support is enabled on the config");
        }
        Ok(())
    }
}

/// Restores the store and the thread when the fiber's work ends, even by panic.
struct FiberExit<'a> {
    store: *mut StoreOpaque,
    cx: &'a AsyncCx,
}

impl Drop for FiberExit<'_> {
    fn drop(&mut self) {
        // SAFETY: the store outlives the fiber (the future borrows it).
        unsafe { (*self.store).async_cx = None };
        self.cx.suspend.set(None);
        if let Some(outer) = self.cx.outer_states.take() {
            swap_thread_call_states(outer);
        }
    }
}

/// Runs `func` with `store` on a fiber; the returned future completes with its result.
/// When already on this store's fiber (an async host function calling back into wasm), runs
/// in place.
pub(crate) async fn on_fiber<'a, R: Send + 'a>(
    store: &'a mut StoreOpaque,
    func: impl FnOnce(&mut StoreOpaque) -> Result<R> + Send + 'a,
) -> Result<R> {
    if store.async_cx.is_some() {
        return func(store);
    }
    let config = store.engine.config();
    let stack = store
        .engine
        .inner
        .stacks
        .stack(config.async_stack_size, config.async_stack_zeroing)?;
    let cx = Box::new(AsyncCx {
        suspend: Cell::new(None),
        poll_cx: Cell::new(std::ptr::null_mut()),
        outer_states: Cell::new(None),
    });
    let cx_ptr = &*cx as *const AsyncCx as usize;
    let store_ptr = store as *mut StoreOpaque as usize;
    let body = move |first: FiberResume, suspend: &Suspend<FiberResume, (), Result<R>>| {
        // SAFETY: the AsyncCx is boxed in the future, which outlives the fiber.
        let cx = unsafe { &*(cx_ptr as *const AsyncCx) };
        let do_suspend = || suspend.suspend(());
        let erased: *const (dyn Fn() -> FiberResume + '_) = &do_suspend;
        // SAFETY: only the lifetime is erased; the pointer is cleared (FiberExit) before
        // `do_suspend` goes out of scope.
        cx.suspend.set(Some(unsafe {
            std::mem::transmute::<
                *const (dyn Fn() -> FiberResume + '_),
                *const (dyn Fn() -> FiberResume + 'static),
            >(erased)
        }));
        cx.outer_states
            .set(Some(swap_thread_call_states(CallStates::EMPTY)));
        let store = store_ptr as *mut StoreOpaque;
        let _exit = FiberExit { store, cx };
        if first == FiberResume::Cancel {
            return Err(anyhow!("the async call was cancelled"));
        }
        // SAFETY: the future holds the store's exclusive borrow for the fiber's whole life.
        let store = unsafe { &mut *store };
        store.async_cx = Some(cx as *const AsyncCx);
        func(store)
    };
    // SAFETY: nothing thread-bound is kept across a suspension: the trap handler's
    // thread-local chain is swapped out before every suspend and back in after it.
    let fiber = unsafe { Fiber::new(stack, body)? };
    FiberFuture {
        fiber,
        cx,
        started: false,
        _store: PhantomData,
    }
    .await
}

/// A store operation running on a fiber.
struct FiberFuture<'a, R> {
    fiber: Fiber<'a, FiberResume, (), Result<R>>,
    cx: Box<AsyncCx>,
    started: bool,
    _store: PhantomData<&'a mut StoreOpaque>,
}

// SAFETY: the fiber is Send for Send values (nothing thread-bound lives across suspension, see
// `on_fiber`), and the AsyncCx's cells are only touched by the fiber and by `poll`/`drop`,
// which hold `&mut self`.
unsafe impl<R: Send> Send for FiberFuture<'_, R> {}

impl<R> Future for FiberFuture<'_, R> {
    type Output = Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        let this = self.get_mut();
        this.started = true;
        // The context only lives for this poll; `poll_cx` is cleared before returning.
        let erased: *mut Context<'_> = cx;
        this.cx.poll_cx.set(erased.cast());
        let result = this.fiber.resume(FiberResume::Poll);
        this.cx.poll_cx.set(std::ptr::null_mut());
        match result {
            FiberResult::Return(r) => Poll::Ready(r),
            FiberResult::Yield(()) => Poll::Pending,
        }
    }
}

impl<R> Drop for FiberFuture<'_, R> {
    fn drop(&mut self) {
        if !self.started || self.fiber.done() {
            return;
        }
        // Let the suspension point fail so the call unwinds as a trap and the fiber finishes.
        while let FiberResult::Yield(()) = self.fiber.resume(FiberResume::Cancel) {}
    }
}

// `AsyncCx` travels inside Send futures; its raw pointers are only used on the fiber.
// SAFETY: see `FiberFuture`'s Send impl.
unsafe impl Send for AsyncCx {}
