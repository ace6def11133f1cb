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
mod limiter;
mod runner;
#[cfg(test)]
mod tests;

pub use host::AsyncHostCall;

use crate::store::StoreOpaque;
use crate::vm::traphandlers::{prepare_thread, swap_call_states, CallStates};
use anyhow::{anyhow, bail, Result};
use runner::{Job, RunnerResume, RunnerSuspend, RunnerYield};
use std::cell::Cell;
use std::future::Future;
use std::marker::{PhantomData, PhantomPinned};
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) use runner::Runner;

/// How code on a fiber reaches its future: lives on the runner's root frame, and the store
/// points at it while the runner runs one of its calls.
pub(crate) struct AsyncCx {
    /// Suspends the runner's fiber.
    suspend: *const RunnerSuspend,
    /// The usable memory of the runner's stack.
    stack: Range<usize>,
    /// The `Context` of the poll currently running the fiber (null after a cancellation).
    poll_cx: Cell<*mut Context<'static>>,
    /// The trap handler's call chain of the thread that resumed the fiber.
    outer_states: Cell<CallStates>,
    /// The store of the running job.
    store: Cell<*mut StoreOpaque>,
    /// The call state that is not in the store: while the fiber runs, the one the store had
    /// when it resumed the fiber; while it is suspended, the fiber's own.
    other_state: Cell<CallState>,
    /// Whether the running job's future was dropped: every later suspension point fails at
    /// once, so the job ends without suspending again.
    cancelled: Cell<bool>,
}

impl AsyncCx {
    /// Whether the caller runs on this fiber's stack (and not, say, on a thread a host
    /// function handed its `Caller` to while the fiber waits for it).
    #[inline]
    fn is_current(&self) -> bool {
        let here = std::ptr::addr_of!(*self) as usize;
        let sp = crate::store::entry::approximate_sp();
        debug_assert!(self.stack.contains(&here));
        self.stack.contains(&sp)
    }

    /// The lowest address wasm entered on this fiber may use (see
    /// [`HOST_STACK_HEADROOM`](crate::store::entry::HOST_STACK_HEADROOM)); on a stack of less
    /// than twice that, half of it, so that small stacks (64 KiB with a 32 KiB
    /// `max_wasm_stack`, which Wasmtime accepts) still leave wasm room to run.
    pub(crate) fn stack_floor(&self) -> usize {
        let headroom = crate::store::entry::HOST_STACK_HEADROOM.min(self.stack.len() / 2);
        self.stack.start.saturating_add(headroom)
    }
}

/// What of a store belongs to the call running in it rather than to the store: the fiber
/// the call runs on (if any) and the stack limit of the stack it runs on. A fiber takes its
/// own out of the store whenever it suspends and puts it back when it is resumed, so that a
/// suspended call, even one whose future was leaked, leaves the store as it found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallState {
    pub(crate) async_cx: Option<*const AsyncCx>,
    /// `VMRuntimeLimits::stack_limit`.
    pub(crate) stack_limit: usize,
    /// The stack `stack_limit` was set for (see `store::entry::enter_stack`).
    pub(crate) stack_owner: usize,
}

impl CallState {
    /// No call in progress on this stack: no fiber, no limit.
    pub(crate) fn idle(async_cx: Option<*const AsyncCx>) -> CallState {
        CallState {
            async_cx,
            stack_limit: usize::MAX,
            stack_owner: usize::MAX,
        }
    }
}

impl StoreOpaque {
    /// Installs `state` as the store's per-call state and returns the one it replaces.
    pub(crate) fn swap_call_state(&mut self, state: CallState) -> CallState {
        let limits = &*self.limits;
        // SAFETY: the limits are only touched by the thread that has the store.
        let stack_limit =
            unsafe { std::mem::replace(&mut *limits.stack_limit.get(), state.stack_limit) };
        CallState {
            async_cx: std::mem::replace(&mut self.async_cx, state.async_cx),
            stack_limit,
            stack_owner: std::mem::replace(&mut self.stack_owner, state.stack_owner),
        }
    }

    /// The fiber of this store's running call, if the caller runs on it.
    #[inline]
    pub(crate) fn current_fiber(&self) -> Option<&AsyncCx> {
        // SAFETY: `async_cx` is set only while the fiber owning it runs a call of this store,
        // and the `AsyncCx` lives on that fiber's root frame for at least as long.
        let cx = unsafe { &*self.async_cx? };
        cx.is_current().then_some(cx)
    }

    /// Whether a call of this store is suspended on a fiber (pending, or leaked).
    pub(crate) fn has_parked_calls(&self) -> bool {
        self.parked_calls > 0
    }

    /// Suspends the running async call until its future is polled again. The waker is woken
    /// first: nothing else will, since this is a yield, not a wait.
    pub(crate) fn async_yield(&mut self) -> Result<()> {
        match self.current_fiber() {
            Some(cx) => {
                let poll_cx = cx.poll_cx.get();
                if !poll_cx.is_null() {
                    // SAFETY: `poll_cx` is the context of the poll running this fiber now.
                    unsafe { (*poll_cx).waker().wake_by_ref() };
                }
                let cx: *const AsyncCx = cx;
                // SAFETY: this runs on the fiber owning `cx` (`current_fiber`).
                unsafe { suspend_fiber(cx) }
            }
            None => bail!("cannot yield: wasm was not called through an async entry point"),
        }
    }

    /// Errors for a sync entry point on a store of an async engine (outside its fibers), and
    /// for any call on a fiber whose call was cancelled.
    pub(crate) fn check_sync_allowed(&self) -> Result<()> {
        match self.current_fiber() {
            Some(cx) if cx.cancelled.get() => Err(cancelled()),
            Some(_) => Ok(()),
            None if self.engine.config().async_support => bail!("must use the async entry points (`call_async`, `instantiate_async`) when async support is enabled on the config"),
            None if self.limiter.is_async() => {
                bail!("store configuration requires that `*_async` functions are used instead")
            }
            None => Ok(()),
        }
    }
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

/// Prepares the thread that resumed a fiber for traps (see [`prepare_thread`]); never
/// inlined, for the same reason as [`swap_thread_call_states`].
#[inline(never)]
fn prepare_resuming_thread() -> Result<()> {
    prepare_thread().map_err(|e| anyhow!(e))
}

/// Exchanges the store's per-call state with the one `cx` keeps aside: the fiber's own goes
/// into the store on resume, the poller's on suspension.
///
/// # Safety
/// `cx` must be the fiber's context, with its job's store live and not otherwise in use.
#[inline]
unsafe fn swap_store_state(cx: &AsyncCx) {
    // SAFETY: the caller's guarantee; the store is the running job's.
    let store = unsafe { &mut *cx.store.get() };
    cx.other_state
        .set(store.swap_call_state(cx.other_state.get()));
}

/// Suspends the fiber running `cx` until its future is polled again. Errors when the future
/// was dropped instead (and at once, without suspending, once it was).
///
/// While suspended, the fiber's call state is out of the store (see [`CallState`]) and the
/// store counts the call as parked.
///
/// # Safety
/// Must run on the fiber that owns `cx`, while it runs.
pub(crate) unsafe fn suspend_fiber(cx: *const AsyncCx) -> Result<()> {
    // SAFETY: the caller runs on the fiber owning `cx`, which lives on that fiber's root frame.
    let cx = unsafe { &*cx };
    if cx.cancelled.get() {
        return Err(cancelled());
    }
    // SAFETY: the job's store is live while the job runs, and the code that called this
    // holds no borrow of it across the suspension that it uses (it is someone else's now).
    unsafe {
        swap_store_state(cx);
        (*cx.store.get()).parked_calls += 1;
    }
    let mine = swap_thread_call_states(cx.outer_states.replace(CallStates::EMPTY));
    // SAFETY: `suspend` is the fiber's own handle, on its root frame.
    let resumed = unsafe { (*cx.suspend).suspend(RunnerYield::Pending) };
    // The thread's chain and the store's state are swapped back whatever happens next, so
    // that a failure below leaves neither stale.
    cx.outer_states.set(swap_thread_call_states(mine));
    // SAFETY: resumed by the job's future, which borrows the store again.
    unsafe {
        (*cx.store.get()).parked_calls -= 1;
        swap_store_state(cx);
    }
    // SAFETY: as above.
    let signals = unsafe { (*cx.store.get()).engine.config().signals_based_traps };
    if signals && matches!(resumed, RunnerResume::Poll(_)) {
        // A thread that never ran wasm may lack its alternate signal stack: then the call
        // fails here, as a trap, rather than run without it.
        if let Err(e) = prepare_resuming_thread() {
            cx.poll_cx.set(std::ptr::null_mut());
            cx.cancelled.set(true);
            return Err(e);
        }
    }
    match resumed {
        RunnerResume::Poll(poll_cx) => {
            cx.poll_cx.set(poll_cx);
            Ok(())
        }
        // A running call is only ever polled or cancelled.
        RunnerResume::Cancel | RunnerResume::Run(..) | RunnerResume::Exit => {
            cx.poll_cx.set(std::ptr::null_mut());
            cx.cancelled.set(true);
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
// which is Send when its data is: every entry point's own future also holds that borrow (its
// `impl AsContextMut`), so it is Send only when the store's data is; the job is Send.
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
            if let Some(fiber) = store.current_fiber() {
                // Already on this store's fiber: run in place (fails fast once cancelled).
                if fiber.cancelled.get() {
                    return Poll::Ready(Err(cancelled()));
                }
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
        if self.started && runner.cancel() == RunnerYield::Pending {
            // Cancelled, the job cannot suspend again (its suspension points fail at once):
            // only a bug gets here. The fiber keeps pointers into this future, so it must
            // never run again: leak it (it left the store clean when it suspended).
            std::mem::forget(self.runner.take());
            return;
        }
        if let Some(Err(payload)) = self.finish() {
            if !std::thread::panicking() {
                panic::resume_unwind(payload);
            }
        }
    }
}
