//! Async execution: wasm runs on a fiber so that a call can suspend (fuel yield, epoch yield,
//! a pending async host function) and resume when its future is polled again.
//!
//! - [`on_fiber`] runs a store operation on the store's [`Runner`] (a fiber kept between
//!   calls) and returns it as a future ([`FiberFuture`]); each poll resumes the fiber with the
//!   poll's `Context` reachable from the store, and `Poll::Pending` means the fiber suspended.
//! - Code on the fiber suspends through [`StoreOpaque::async_yield`] or [`block_on`]; the
//!   trap handler's per-thread call chain is swapped out on suspension and back in on resume,
//!   so a call may resume on another thread.
//! - Dropping a future mid-call resumes the fiber with a cancellation: the suspension point
//!   returns an error, which leaves the wasm frames as a trap, and the call finishes normally,
//!   leaving the store (and its runner) usable.

mod entry_points;
mod host;
mod runner;

use crate::store::StoreOpaque;
use crate::vm::traphandlers::{swap_call_states, CallStates};
use anyhow::{anyhow, bail, Result};
use runner::{Job, RunnerResume, RunnerSuspend, RunnerYield};
use std::cell::Cell;
use std::future::Future;
use std::marker::{PhantomData, PhantomPinned};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) use runner::Runner;

/// How code on a fiber reaches its future: lives on the runner's root frame, and the store
/// points at it while the runner runs one of its calls.
pub(crate) struct AsyncCx {
    /// Suspends the runner's fiber.
    suspend: *const RunnerSuspend,
    /// The `Context` of the poll currently running the fiber (null after a cancellation).
    poll_cx: Cell<*mut Context<'static>>,
    /// The trap handler's call chain of the thread that resumed the fiber.
    outer_states: Cell<CallStates>,
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
    // SAFETY: the caller runs on the fiber owning `cx`, which lives on that fiber's root frame.
    let cx = unsafe { &*cx };
    let mine = swap_thread_call_states(cx.outer_states.replace(CallStates::EMPTY));
    // SAFETY: `suspend` is the fiber's own handle, on its root frame.
    let resumed = unsafe { (*cx.suspend).suspend(RunnerYield::Pending) };
    cx.outer_states.set(swap_thread_call_states(mine));
    match resumed {
        RunnerResume::Poll(poll_cx) => {
            cx.poll_cx.set(poll_cx);
            Ok(())
        }
        // A running call is only ever polled or cancelled.
        RunnerResume::Cancel | RunnerResume::Run(..) | RunnerResume::Exit => {
            cx.poll_cx.set(std::ptr::null_mut());
            Err(cancelled())
        }
    }
}

/// The error a suspension point returns when its future was dropped.
#[cold]
fn cancelled() -> anyhow::Error {
    anyhow!("the async call was cancelled")
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
            return Err(cancelled());
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

/// Runs `func` with `store` on a fiber; the returned future completes with its result.
/// When already on this store's fiber (an async host function calling back into wasm), runs
/// in place. Nothing happens until the first poll.
pub(crate) fn on_fiber<'a, R, F>(store: &'a mut StoreOpaque, func: F) -> FiberFuture<'a, F, R>
where
    R: Send + 'a,
    F: FnOnce(&mut StoreOpaque) -> Result<R> + Send + 'a,
{
    FiberFuture {
        store,
        runner: None,
        job: CallJob {
            func: Some(func),
            result: None,
        },
        started: false,
        _pinned: PhantomPinned,
        _store: PhantomData,
    }
}

/// A call's body and, once it ran, its result (or its panic).
struct CallJob<F, R> {
    func: Option<F>,
    result: Option<std::thread::Result<Result<R>>>,
}

impl<F: FnOnce(&mut StoreOpaque) -> Result<R>, R> Job for CallJob<F, R> {
    fn run(&mut self, store: &mut StoreOpaque) {
        if let Some(func) = self.func.take() {
            self.result = Some(panic::catch_unwind(AssertUnwindSafe(|| func(store))));
        }
    }
}

/// A store operation running on the store's runner (see [`on_fiber`]).
pub(crate) struct FiberFuture<'a, F, R> {
    store: *mut StoreOpaque,
    /// Taken from the store (or made) when the call starts, given back when it is done.
    runner: Option<Box<Runner>>,
    /// Read by the runner, by address, while the call runs.
    job: CallJob<F, R>,
    /// Whether the job was started on the runner.
    started: bool,
    /// The runner holds the job's address between polls.
    _pinned: PhantomPinned,
    _store: PhantomData<&'a mut StoreOpaque>,
}

// SAFETY: the runner's fiber is Send (nothing thread-bound lives across its suspensions, see
// `Runner::new`); the store pointer stands for the future's exclusive borrow of the store,
// which is Send when its data is (the entry points require `T: Send`); the job is Send.
unsafe impl<F: Send, R: Send> Send for FiberFuture<'_, F, R> {}

impl<F, R> FiberFuture<'_, F, R> {
    /// Gives the runner back to the store when it may be kept (otherwise drops it, releasing
    /// its stack), and returns the call's result.
    fn finish(&mut self) -> Option<std::thread::Result<Result<R>>> {
        if let Some(runner) = self.runner.take() {
            if runner.reusable() {
                // SAFETY: the future borrows the store exclusively, and the job, which used
                // it, is done.
                unsafe { (*self.store).async_runner = Some(runner) };
            }
        }
        self.job.result.take()
    }
}

impl<'a, F: FnOnce(&mut StoreOpaque) -> Result<R> + 'a, R: 'a> Future for FiberFuture<'a, F, R> {
    type Output = Result<R>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        // SAFETY: the job is never moved while the future lives (it is only read and written
        // in place); the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let status = if this.started {
            let runner = this
                .runner
                .as_mut()
                .expect("FiberFuture polled after completion");
            runner.poll(cx)
        } else {
            // SAFETY: the future borrows the store exclusively; nothing else uses it now.
            let store = unsafe { &mut *this.store };
            if store.async_cx.is_some() {
                let func = this.job.func.take();
                return Poll::Ready(func.expect("FiberFuture polled after completion")(store));
            }
            let runner = match store.async_runner.take() {
                Some(runner) => runner,
                None => match Runner::new(store) {
                    Ok(runner) => runner,
                    Err(e) => return Poll::Ready(Err(e)),
                },
            };
            let runner = this.runner.insert(runner);
            this.started = true;
            let job: *mut (dyn Job + 'a) = &mut this.job;
            // SAFETY: only the lifetime is erased: the future is pinned, so the job stays where
            // it is until the future is dropped, and dropping it first finishes the job. The
            // store is borrowed by the future for as long.
            unsafe {
                let job: *mut (dyn Job + 'static) = std::mem::transmute(job);
                runner.start(job, this.store, cx)
            }
        };
        match status {
            RunnerYield::Pending => Poll::Pending,
            RunnerYield::Done => match this.finish() {
                Some(Ok(result)) => Poll::Ready(result),
                Some(Err(payload)) => panic::resume_unwind(payload),
                None => Poll::Ready(Err(anyhow!("the async call did not run"))),
            },
        }
    }
}

impl<F, R> Drop for FiberFuture<'_, F, R> {
    fn drop(&mut self) {
        let Some(runner) = self.runner.as_mut() else {
            return;
        };
        if self.started {
            // Let the suspension point fail so the call unwinds as a trap and the job ends.
            while runner.cancel() == RunnerYield::Pending {}
        }
        if let Some(Err(payload)) = self.finish() {
            if !std::thread::panicking() {
                panic::resume_unwind(payload);
            }
        }
    }
}
