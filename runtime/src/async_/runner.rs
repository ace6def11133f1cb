//! A fiber that runs a store's async calls one after another.
//!
//! Making a fiber for every call (taking a stack from the pool, setting up its first frame,
//! handing the stack back) is most of what a short async call costs. A [`Runner`] is a fiber
//! that never returns while it has work: it runs one [`Job`] (the body of a call), reports
//! [`RunnerYield::Done`] and waits, suspended at its root, for the next one. The store keeps
//! its runner between calls (see [`on_fiber`](super::on_fiber)), so a call starts by resuming
//! a suspended fiber.

use super::{swap_thread_call_states, AsyncCx, CallState};
use crate::engine::StackSource;
use crate::store::StoreOpaque;
use crate::vm::traphandlers::CallStates;
use anyhow::Result;
use std::cell::Cell;
use std::task::Context;
use wasmjit_fiber::{Fiber, FiberResult, Suspend};

/// The body of one call, run on the runner's fiber. Catches its own panics, so that the
/// runner survives them.
pub(crate) trait Job {
    fn run(&mut self, store: &mut StoreOpaque);
}

/// What a runner is resumed with.
#[derive(Clone, Copy)]
pub(crate) enum RunnerResume {
    /// Start a job on `store` inside the poll of this `Context`. The job and the store stay
    /// valid until the runner reports [`RunnerYield::Done`].
    Run(
        *mut (dyn Job + 'static),
        *mut StoreOpaque,
        *mut Context<'static>,
    ),
    /// The future of the suspended job was polled with this `Context` (valid until the fiber
    /// suspends again): continue.
    Poll(*mut Context<'static>),
    /// The future of the suspended job was dropped: unwind it.
    Cancel,
    /// No more jobs: return, releasing the stack.
    Exit,
}

// SAFETY: the pointers are dereferenced only on the runner's fiber, during the resume that
// passed them (the job and store: until the job is done), on the thread running that resume.
unsafe impl Send for RunnerResume {}

/// What a runner suspends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunnerYield {
    /// The job is waiting; its future is pending.
    Pending,
    /// The job is done; the runner waits for the next one.
    Done,
}

pub(crate) type RunnerSuspend = Suspend<RunnerResume, RunnerYield, ()>;

/// A fiber that runs jobs, and whether it may be kept for the next call.
pub(crate) struct Runner {
    fiber: Fiber<'static, RunnerResume, RunnerYield, ()>,
    /// Whether its stack may stay with the store between calls: true for the engine's pool
    /// without zeroing. A stack from the embedder's creator (asked for every new stack) or
    /// one to be zeroed before reuse goes back after each call.
    reusable: bool,
}

impl Runner {
    /// A runner on a new stack of `store`'s engine.
    pub(crate) fn new(store: &StoreOpaque) -> Result<Box<Runner>> {
        let config = store.engine.config();
        let stacks = &store.engine.inner.stacks;
        let reusable = matches!(stacks, StackSource::Pool(pool) if !pool.config().zero_on_reuse);
        let stack = stacks.stack(config.async_stack_size, config.async_stack_zeroing)?;
        // SAFETY: between jobs the runner holds nothing but its own frame (the `AsyncCx`,
        // whose call chain is empty then); during a job the trap handler's thread-local chain
        // is swapped out before every suspension and back in after it.
        let fiber = unsafe { Fiber::new(stack, runner_main)? };
        Ok(Box::new(Runner { fiber, reusable }))
    }

    pub(crate) fn reusable(&self) -> bool {
        self.reusable
    }

    /// Starts `job` on `store`; returns when it is done or suspends.
    ///
    /// # Safety
    /// `job` and `store` must stay valid, and `store` otherwise unused, until a call of this
    /// runner returns [`RunnerYield::Done`]; until then the runner may only be resumed with
    /// [`poll`](Self::poll) or [`cancel`](Self::cancel).
    #[inline]
    pub(crate) unsafe fn start(
        &mut self,
        job: *mut (dyn Job + 'static),
        store: *mut StoreOpaque,
        cx: &mut Context<'_>,
    ) -> RunnerYield {
        let cx: *mut Context<'_> = cx;
        self.resume(RunnerResume::Run(job, store, cx.cast()))
    }

    /// Resumes the suspended job inside the poll of `cx`.
    #[inline]
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> RunnerYield {
        let cx: *mut Context<'_> = cx;
        self.resume(RunnerResume::Poll(cx.cast()))
    }

    /// Resumes the suspended job with a cancellation: its suspension point fails.
    #[inline]
    pub(crate) fn cancel(&mut self) -> RunnerYield {
        self.resume(RunnerResume::Cancel)
    }

    // Inlined, like the methods above and `FiberFuture::poll`: after a switch of stacks the
    // CPU's return-address predictor is wrong for every frame between the switch and the code
    // that goes on, so each frame saved here is a misprediction saved per suspend or resume.
    #[inline]
    fn resume(&mut self, value: RunnerResume) -> RunnerYield {
        match self.fiber.resume(value) {
            FiberResult::Yield(y) => y,
            // `runner_main` returns only on `Exit`.
            FiberResult::Return(()) => RunnerYield::Done,
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if !self.fiber.done() {
            // Lets `runner_main` return, so its stack is released without unwinding.
            let _ = self.fiber.resume(RunnerResume::Exit);
        }
    }
}

/// The runner's fiber: runs each job it is given, until told to exit.
fn runner_main(mut resumed: RunnerResume, suspend: &RunnerSuspend) {
    let cx = AsyncCx {
        suspend,
        stack: suspend.stack_range(),
        poll_cx: Cell::new(std::ptr::null_mut()),
        outer_states: Cell::new(CallStates::EMPTY),
        store: Cell::new(std::ptr::null_mut()),
        other_state: Cell::new(CallState::idle(None)),
        cancelled: Cell::new(false),
    };
    loop {
        match resumed {
            RunnerResume::Run(job, store, poll_cx) => {
                cx.poll_cx.set(poll_cx);
                // SAFETY: `start`'s caller keeps the job and the store valid until `Done`.
                unsafe { run_job(&cx, &mut *job, store) };
            }
            RunnerResume::Exit => return,
            // Nothing is running: nothing to resume or cancel.
            RunnerResume::Poll(_) | RunnerResume::Cancel => {}
        }
        resumed = suspend.suspend(RunnerYield::Done);
    }
}

/// Runs one job with the store's call state pointing at the runner's context (and no stack
/// limit yet: the first entry into wasm on this stack sets one).
///
/// # Safety
/// `store` must be valid and otherwise unused while the job runs.
unsafe fn run_job(cx: &AsyncCx, job: &mut dyn Job, store: *mut StoreOpaque) {
    // With the fiber's guard known, a host stack overflow on it is reported, not a bare SIGSEGV.
    // SAFETY: `suspend` is the fiber's own handle, on its root frame.
    let states = CallStates::on_stack_with_guard(unsafe { (*cx.suspend).guard_range() });
    cx.outer_states.set(swap_thread_call_states(states));
    cx.store.set(store);
    cx.cancelled.set(false);
    // SAFETY: the caller's guarantee.
    let outer = unsafe { (*store).swap_call_state(CallState::idle(Some(cx))) };
    cx.other_state.set(outer);
    let _exit = JobExit { cx };
    // SAFETY: the caller's guarantee.
    job.run(unsafe { &mut *store });
}

/// Restores the store and the thread when a job ends, even by panic.
struct JobExit<'a> {
    cx: &'a AsyncCx,
}

impl Drop for JobExit<'_> {
    fn drop(&mut self) {
        // SAFETY: the store is valid while the job runs (`run_job`), and the job's borrow of
        // it has ended.
        unsafe { (*self.cx.store.get()).swap_call_state(self.cx.other_state.get()) };
        self.cx.store.set(std::ptr::null_mut());
        swap_thread_call_states(self.cx.outer_states.replace(CallStates::EMPTY));
    }
}
