//! A fiber: a closure running on its own stack, which suspends with a value and is resumed with
//! a value, built on `corosensei`'s coroutines.
//!
//! See [`Fiber`] for what dropping a suspended fiber does and when a fiber is `Send`.

use std::marker::PhantomData;
use std::ops::Range;
use std::ptr::NonNull;

use anyhow::{bail, ensure};
use corosensei::stack::{Stack, StackPointer, MIN_STACK_SIZE, STACK_ALIGNMENT};
use corosensei::trap::CoroutineTrapHandler;
use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::stack::FiberStack;

/// What [`Fiber::resume`] observed: the fiber suspended or it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiberResult<Yield, Return> {
    /// The fiber called [`Suspend::suspend`] with this value; it can be resumed again.
    Yield(Yield),
    /// The fiber's closure returned this value; the fiber is done and its stack released.
    Return(Return),
}

impl<Yield, Return> FiberResult<Yield, Return> {
    /// The suspended value, if the fiber suspended.
    pub fn into_yield(self) -> Option<Yield> {
        match self {
            FiberResult::Yield(value) => Some(value),
            FiberResult::Return(_) => None,
        }
    }

    /// The returned value, if the fiber returned.
    pub fn into_return(self) -> Option<Return> {
        match self {
            FiberResult::Yield(_) => None,
            FiberResult::Return(value) => Some(value),
        }
    }
}

/// A closure running on its own stack that can suspend itself and be resumed, passing values
/// both ways. `'a` bounds what the closure borrows.
///
/// The first [`resume`](Self::resume) starts the closure with the resumed value; each
/// [`Suspend::suspend`] returns control to `resume`'s caller; when the closure returns, the
/// fiber is done and its stack is released at once (a pooled stack goes back to its pool).
///
/// # Dropping a suspended fiber
///
/// The fiber is unwound: its last `suspend` panics with `corosensei`'s private payload, the
/// frames on its stack run their destructors, the payload is caught at the fiber's root, and
/// only then is the stack released (the stack belongs to the coroutine, which frees it after the
/// unwind). A fiber that never started just drops its closure. Unwinding never aborts the
/// process: a panic raised by a destructor on the fiber is caught in `Drop`, the stack is released,
/// and the panic is resumed in the dropping thread (or discarded if it is already panicking).
///
/// Frames without unwind information (JIT code that did not register any) cannot be unwound
/// through. Code that suspends with such frames on the stack must be driven to completion
/// instead, e.g. by resuming it with a value that makes it return (as a runtime does when an
/// async call is cancelled); see also [`Fiber::trap_handler`].
///
/// # `Send`
///
/// A suspended fiber carries its stack frames with it. `corosensei` can switch to a stack from
/// any thread, but cannot know whether those frames hold thread-bound state, so its coroutines
/// are never `Send`. [`Fiber::new`] is therefore `unsafe`: its caller promises that the closure
/// keeps nothing thread-bound alive across [`Suspend::suspend`] (no `Rc` clones shared with the
/// outside, no borrows of thread-locals, no lock guards, no cached thread ids or thread-local
/// pointers that are not refreshed after resuming). Given that, a fiber whose closure and
/// values are `Send` is `Send`: it may be resumed on another thread than the one that created
/// it or last resumed it.
pub struct Fiber<'a, Resume, Yield, Return> {
    /// `None` once the fiber has finished: the coroutine and its stack are gone.
    coroutine: Option<Coroutine<Resume, Yield, Return, BoundedStack>>,
    stack_range: Range<usize>,
    /// The closure (on the fiber's stack) may borrow data living for `'a`, and the fiber's drop
    /// may run its destructors.
    _borrows: PhantomData<&'a ()>,
}

// SAFETY: the closure is `Send` (required by `new`), the values crossing `resume` are `Send`,
// and `new`'s caller promises that no thread-bound state lives on the fiber's stack while it is
// suspended; the stack itself is `Send` (`StackMemory: Send`). corosensei keeps no per-thread
// state for a suspended coroutine (the parent link is rewritten by every resume), so resuming
// from another thread is sound.
unsafe impl<Resume: Send, Yield: Send, Return: Send> Send for Fiber<'_, Resume, Yield, Return> {}

impl<'a, Resume, Yield, Return> Fiber<'a, Resume, Yield, Return> {
    /// Prepares `func` to run on `stack`; nothing runs until the first [`resume`](Self::resume).
    ///
    /// Fails if the stack is unusable: its top outside its range, or less than 4 KiB of usable
    /// memory after aligning.
    ///
    /// # Safety
    ///
    /// Because the fiber may be resumed on another thread (see [`Fiber`]), `func` must not keep
    /// thread-bound state alive across a call to [`Suspend::suspend`]: no `!Send` values, no
    /// references into thread-locals, no values derived from the current thread (its id,
    /// thread-local addresses) used after resuming. Callers that never move the fiber to another
    /// thread meet this trivially.
    pub unsafe fn new<F>(stack: impl Into<FiberStack>, func: F) -> anyhow::Result<Self>
    where
        F: FnOnce(Resume, &Suspend<Resume, Yield, Return>) -> Return + Send + 'a,
    {
        let stack = BoundedStack::new(stack.into())?;
        let stack_range = stack.memory.range();
        let range = stack_range.clone();
        let guard_range = stack.guard_range();
        let body = move |yielder: &Yielder<Resume, Yield>, first: Resume| {
            let suspend = Suspend {
                yielder: NonNull::from(yielder),
                stack_range: range,
                guard_range,
                _return: PhantomData,
            };
            func(first, &suspend)
        };
        // SAFETY: `with_stack_unchecked` lifts `with_stack`'s `'static` bounds; the closure's
        // borrows live for `'a`, which outlives the fiber (`_borrows`), so they stay valid until
        // the coroutine finishes or is dropped. A forgotten fiber leaks its owned stack, so the
        // coroutine's frames are never reused or run again.
        let coroutine = unsafe { Coroutine::with_stack_unchecked(stack, body) };
        Ok(Fiber {
            coroutine: Some(coroutine),
            stack_range,
            _borrows: PhantomData,
        })
    }

    /// Runs the fiber until it suspends or returns, passing `value` as the closure's argument on
    /// the first call and as [`Suspend::suspend`]'s result afterwards.
    ///
    /// # Panics
    ///
    /// Panics if the fiber is done. A panic inside the fiber propagates out of this call
    /// (`resume_unwind`, with the original payload); the fiber is then done and its stack
    /// released.
    // Inlined so that callers keep few frames between them and the switch of stacks (each one
    // costs a return misprediction per switch).
    #[inline]
    pub fn resume(&mut self, value: Resume) -> FiberResult<Yield, Return> {
        // Releases the stack as soon as the coroutine finishes, by returning or by panicking.
        let guard = ReleaseWhenDone(&mut self.coroutine);
        let coroutine = guard.0.as_mut().expect("resumed a fiber that is done");
        match coroutine.resume(value) {
            CoroutineResult::Yield(value) => FiberResult::Yield(value),
            CoroutineResult::Return(value) => FiberResult::Return(value),
        }
    }

    /// Whether the fiber has finished (returned or panicked); it cannot be resumed any more.
    pub fn done(&self) -> bool {
        self.coroutine.is_none()
    }

    /// The usable memory of the fiber's stack (guard pages excluded), as given by its
    /// [`StackMemory::range`](crate::StackMemory::range). Still reported after the fiber is
    /// done, when the stack may already be in other use.
    pub fn stack_range(&self) -> Range<usize> {
        self.stack_range.clone()
    }

    /// corosensei's hook for a signal handler that catches a trap (a fault or a trapping
    /// instruction) on this fiber, or `None` if the fiber is done.
    ///
    /// [`CoroutineTrapHandler::setup_trap_handler`] rewrites the interrupted context so that the
    /// fiber discards its whole stack, runs a closure and returns that closure's value from the
    /// pending [`resume`](Self::resume) as [`FiberResult::Return`]. The discarded frames are
    /// not unwound: this is only sound while the fiber runs code whose frames own nothing that
    /// needs dropping (JIT code), as its safety section spells out. The handler is `Copy` and has
    /// no lifetime so that it can be stashed in a thread-local before resuming; using it after
    /// the fiber is done or dropped is undefined behaviour.
    pub fn trap_handler(&self) -> Option<CoroutineTrapHandler<Return>> {
        self.coroutine.as_ref().map(Coroutine::trap_handler)
    }
}

impl<Resume, Yield, Return> Drop for Fiber<'_, Resume, Yield, Return> {
    fn drop(&mut self) {
        let Some(coroutine) = self.coroutine.as_mut() else {
            return;
        };
        // corosensei's own `Drop` turns a panic escaping the unwind into an abort; unwinding
        // here first, under `catch_unwind`, leaves its `Drop` nothing to do.
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            coroutine.force_unwind();
        }));
        if !coroutine.done() {
            // Only a closure that never started can get here: dropping it (its captures)
            // panicked, so corosensei did not mark it done.
            // SAFETY: the unwinding drop of the closure dropped its remaining captures, and
            // the fiber never ran, so no other object lives on its stack.
            unsafe { coroutine.force_reset() };
        }
        // The coroutine is done: dropping it runs no code on the stack, then frees the stack.
        self.coroutine = None;
        if let Err(payload) = unwound {
            if !std::thread::panicking() {
                std::panic::resume_unwind(payload);
            }
        }
    }
}

/// Drops the coroutine (releasing its stack) if it finished, when `resume` returns or unwinds.
struct ReleaseWhenDone<'c, Resume, Yield, Return>(
    &'c mut Option<Coroutine<Resume, Yield, Return, BoundedStack>>,
);

impl<Resume, Yield, Return> Drop for ReleaseWhenDone<'_, Resume, Yield, Return> {
    fn drop(&mut self) {
        if self.0.as_ref().is_some_and(Coroutine::done) {
            *self.0 = None;
        }
    }
}

/// The handle a fiber's closure uses to suspend itself; only reachable as `&Suspend` inside
/// the closure. It is neither `Send` nor `Sync`, so it cannot leave the fiber's thread of
/// control (e.g. into another fiber's closure):
///
/// ```compile_fail
/// fn assert_sync<T: Sync>() {}
/// assert_sync::<wasmjit_fiber::Suspend<(), (), ()>>();
/// ```
pub struct Suspend<Resume, Yield, Return> {
    /// Lives on the fiber's stack, in the frame that calls the closure, so it outlives every
    /// `&Suspend` the closure can hold.
    yielder: NonNull<Yielder<Resume, Yield>>,
    stack_range: Range<usize>,
    guard_range: Range<usize>,
    _return: PhantomData<fn() -> Return>,
}

impl<Resume, Yield, Return> Suspend<Resume, Yield, Return> {
    /// Suspends the fiber: the pending [`Fiber::resume`] returns [`FiberResult::Yield`] with
    /// `value`, and this call returns the value passed to the next `resume`, possibly on another
    /// thread.
    ///
    /// If the fiber is dropped instead of resumed, this call unwinds (see [`Fiber`]); code that catches panics must let that one continue.
    pub fn suspend(&self, value: Yield) -> Resume {
        self.yielder().suspend(value)
    }

    /// The usable memory of the stack this fiber runs on (guard pages excluded), e.g. to set a
    /// stack limit for code running on it.
    pub fn stack_range(&self) -> Range<usize> {
        self.stack_range.clone()
    }

    /// The guard region directly below [`stack_range`](Self::stack_range), as reported by the
    /// stack's [`StackMemory::guard_range`](crate::StackMemory::guard_range), or an empty range
    /// if it reports none adjacent to the stack. Code that overflows the stack faults there.
    pub fn guard_range(&self) -> Range<usize> {
        self.guard_range.clone()
    }

    /// Runs `f` on the stack of the thread that resumed the fiber, for work too deep for the
    /// fiber's stack. Panics in `f` propagate to the caller.
    pub fn on_parent_stack<F, R>(&self, f: F) -> R
    where
        // `Send` keeps `&Suspend` (which is not `Send`) out of `f`.
        F: FnOnce() -> R + Send,
    {
        self.yielder().on_parent_stack(f)
    }

    fn yielder(&self) -> &Yielder<Resume, Yield> {
        // SAFETY: the yielder outlives this `Suspend` (see the field), and corosensei only ever
        // hands out shared references to it.
        unsafe { self.yielder.as_ref() }
    }
}

/// A [`FiberStack`] with the bounds corosensei needs, checked once.
struct BoundedStack {
    memory: FiberStack,
    /// `top()`, aligned down.
    base: StackPointer,
    /// The lowest address of the stack including an adjacent guard region, aligned up.
    limit: StackPointer,
}

impl BoundedStack {
    fn new(memory: FiberStack) -> anyhow::Result<Self> {
        let range = memory.range();
        let top = memory.top() as usize;
        ensure!(
            range.start < top && top <= range.end,
            "stack top {top:#x} lies outside its usable range {range:#x?}"
        );
        let base = top & !(STACK_ALIGNMENT - 1);
        let usable_start = range.start.next_multiple_of(STACK_ALIGNMENT);
        ensure!(
            base >= usable_start && base - usable_start >= MIN_STACK_SIZE,
            "stack has less than {MIN_STACK_SIZE} usable bytes ({range:#x?}, top {top:#x})"
        );
        // corosensei wants the guard included, so that a trap handler recognizes a stack pointer
        // that overflowed into it as being on this stack.
        let low = Self::adjacent_guard(&memory).map_or(range.start, |guard| guard.start);
        let (Some(base), Some(limit)) = (
            StackPointer::new(base),
            StackPointer::new(low.next_multiple_of(STACK_ALIGNMENT)),
        ) else {
            bail!("stack at address zero");
        };
        Ok(BoundedStack {
            memory,
            base,
            limit,
        })
    }

    /// The stack's guard region if it lies directly below the usable range.
    fn adjacent_guard(memory: &FiberStack) -> Option<Range<usize>> {
        let guard = memory.guard_range();
        let guard = guard.start as usize..guard.end as usize;
        (!guard.is_empty() && guard.end == memory.range().start).then_some(guard)
    }

    /// See [`Suspend::guard_range`].
    fn guard_range(&self) -> Range<usize> {
        let start = self.memory.range().start;
        Self::adjacent_guard(&self.memory).unwrap_or(start..start)
    }
}

// SAFETY: base and limit are aligned to `STACK_ALIGNMENT` and lie within the memory, which by
// `StackMemory`'s contract is read-write, owned by this object (for as long as the coroutine
// holds it) and has a guard region below it; at least `MIN_STACK_SIZE` bytes were checked.
unsafe impl Stack for BoundedStack {
    fn base(&self) -> StackPointer {
        self.base
    }

    fn limit(&self) -> StackPointer {
        self.limit
    }
}
