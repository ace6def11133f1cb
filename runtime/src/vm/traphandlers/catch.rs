//! The entry that traps unwind to: [`catch_traps`] and its per-call state.
//!
//! Each call keeps a [`CallState`] on its own stack frame and publishes it in
//! a thread-local while the closure runs; the states of nested calls form a
//! linked list through `prev`. The signal handler only ever reads the
//! innermost one.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_int, c_void};
use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use super::alt_stack;
use super::backtrace::Backtrace;
use super::signals::{init_traps, TrapRegs};

extern "C" {
    /// `setjmp.c`: sets a jump point, calls `body(payload, jmp_buf)`, and
    /// returns 1 when `body` returns or 0 when a trap jumped back.
    fn wasmjit_traps_call_with_jmp_buf(
        body: unsafe extern "C" fn(payload: *mut c_void, jmp_buf: *mut c_void),
        payload: *mut c_void,
    ) -> c_int;

    /// `setjmp.c`: `siglongjmp`s to a jump point set above; never returns.
    fn wasmjit_traps_unwind(jmp_buf: *mut c_void) -> !;
}

thread_local! {
    /// The innermost `catch_traps` on this thread, or null.
    ///
    /// `const`-initialised and without a destructor, so reading it is a plain
    /// TLS load that is safe inside a signal handler.
    static INNERMOST: Cell<*const CallState> = const { Cell::new(ptr::null()) };
}

/// What a caught trap left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapRecord {
    /// The signal that reported the trap (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`).
    pub signal: i32,
    /// The PC of the trapping instruction.
    pub pc: usize,
    /// The faulting address (`si_addr`), for `SIGSEGV` and `SIGBUS` only.
    pub fault_addr: Option<usize>,
    /// PCs innermost first: `pc`, then the return addresses found up the
    /// frame-pointer chain while they are in registered code (at most 256).
    pub backtrace: Vec<usize>,
}

/// One `catch_traps` call in progress.
pub(super) struct CallState {
    /// The `sigjmp_buf` on the C entry's frame; null until the closure runs.
    jmp_buf: Cell<*mut c_void>,
    /// The next outer call on this thread, made innermost again on exit.
    prev: *const CallState,
    /// An address in `catch_traps`' own frame: every frame the closure
    /// pushes lies below it, so the backtrace never reads at or above it.
    entry_sp: Cell<usize>,
    /// Written by the signal handler, read after it jumped back; uninitialised until then.
    /// Not initialised on entry: with its 2 KiB backtrace buffer that was a `memset` costing
    /// half of a host→wasm call of a nop.
    trap: UnsafeCell<MaybeUninit<RawTrap>>,
    /// A panic of the closure, resumed once the C frame is gone.
    panic: Cell<Option<Box<dyn Any + Send>>>,
}

struct RawTrap {
    signal: c_int,
    pc: usize,
    fault_addr: Option<usize>,
    backtrace: Backtrace,
}

impl CallState {
    /// Records a trap and unwinds to this call's entry. Async-signal-safe.
    ///
    /// # Safety
    /// Only from the signal handler, for a trap on this state's thread at a
    /// PC in registered code, with `self` the innermost call (so the closure
    /// is running and the jump buffer is live). `regs.sp` must be on the
    /// same stack as the entry, below it.
    pub(super) unsafe fn record_trap_and_unwind(
        &self,
        signal: c_int,
        regs: &TrapRegs,
        fault_addr: Option<usize>,
    ) -> ! {
        // SAFETY: the closure is running (it is what trapped), so nothing
        // else accesses `trap` until `catch_traps` regains control, which
        // happens only through the jump below.
        let trap = unsafe { &mut *self.trap.get() };
        let trap = trap.write(RawTrap {
            signal,
            pc: regs.pc,
            fault_addr,
            backtrace: Backtrace::new(),
        });
        // SAFETY: `[regs.sp, entry_sp)` is the live stack between the trap
        // and the entry (caller's guarantee), hence readable.
        unsafe { trap.backtrace.capture(regs, self.entry_sp.get()) };
        // SAFETY: the jump buffer is on the C entry's frame, which is live
        // while the closure runs; the frames jumped over are JIT frames and
        // plain Rust frames without pending destructors (see `catch_traps`).
        unsafe { wasmjit_traps_unwind(self.jmp_buf.get()) }
    }

    /// The innermost call on this thread, if its closure has started.
    /// Async-signal-safe.
    ///
    /// # Safety
    /// The reference must not outlive that call; the signal handler uses it
    /// only while the trapping closure is still running.
    pub(super) unsafe fn innermost<'a>() -> Option<&'a CallState> {
        let state = INNERMOST.try_with(Cell::get).unwrap_or(ptr::null());
        // SAFETY: a non-null pointer in `INNERMOST` points to the state on
        // the frame of a `catch_traps` still running on this thread (it is
        // reset before that frame returns), and the caller keeps the
        // reference no longer than that.
        let state = unsafe { state.as_ref()? };
        (!state.jmp_buf.get().is_null()).then_some(state)
    }
}

/// The C entry's argument: what the body needs.
struct Call<'a> {
    state: &'a CallState,
    f: &'a mut dyn FnMut(),
}

/// Runs on the C entry's frame, after `sigsetjmp`.
unsafe extern "C" fn run_body(payload: *mut c_void, jmp_buf: *mut c_void) {
    // SAFETY: `catch_traps` passes a pointer to its live `Call`, used by
    // nothing else during this call.
    let call = unsafe { &mut *payload.cast::<Call>() };
    call.state.jmp_buf.set(jmp_buf);
    INNERMOST.set(call.state);
    // A panic must not unwind through the C frame; carry it over instead.
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| (call.f)())) {
        call.state.panic.set(Some(payload));
    }
}

/// Runs `f`, catching traps raised by registered code while it runs.
///
/// If code in a range registered with `register_code_range` traps on this
/// thread while `f` runs, the signal handler records the trap and unwinds
/// straight back here: returns `Err` with the record. Otherwise returns
/// `Ok(())` when `f` returns. A panic in `f` propagates out of this
/// function. Calls nest: a trap returns to the innermost call, and the outer
/// one keeps working. Installs the signal handlers ([`init_traps`]) and this
/// thread's alternate signal stack on first use.
///
/// # Safety
/// A trap abandons every frame between the trapping instruction and this
/// call without running destructors: those frames must be JIT code, or Rust
/// frames (`f`'s own, and whatever it calls on the way into compiled code)
/// that own nothing needing drop and hold no locks. Compiled code must run
/// on the thread's own stack, below this call.
pub unsafe fn catch_traps(f: &mut dyn FnMut()) -> Result<(), TrapRecord> {
    init_traps();
    alt_stack::ensure_installed();

    let state = CallState {
        jmp_buf: Cell::new(ptr::null_mut()),
        prev: INNERMOST.get(),
        entry_sp: Cell::new(0),
        trap: UnsafeCell::new(MaybeUninit::uninit()),
        panic: Cell::new(None),
    };
    state.entry_sp.set(ptr::addr_of!(state) as usize);
    let mut call = Call { state: &state, f };

    // SAFETY: `run_body` matches the C callback type and gets a pointer to
    // `call`, which outlives the C call. The handler only jumps back to the
    // C frame while it is live (the closure runs inside it).
    let returned = unsafe {
        wasmjit_traps_call_with_jmp_buf(run_body, ptr::addr_of_mut!(call).cast::<c_void>())
    };

    // Both normal return and trap end up here, possibly on another thread than the one the
    // call started on: a fiber suspended inside `f` may have been resumed elsewhere.
    set_innermost(state.prev);
    if let Some(payload) = state.panic.take() {
        panic::resume_unwind(payload);
    }
    if returned != 0 {
        return Ok(());
    }
    // SAFETY: `returned == 0` means the signal handler jumped back, after it wrote the
    // whole record (`record_trap_and_unwind`); nothing accesses it any more. Read in place:
    // moving it out would copy the 2 KiB buffer.
    let trap = unsafe { (*state.trap.get()).assume_init_ref() };
    Err(TrapRecord {
        signal: trap.signal,
        pc: trap.pc,
        fault_addr: trap.fault_addr,
        backtrace: trap.backtrace.as_slice().to_vec(),
    })
}

/// Makes `state` this thread's innermost call, for the thread running *now*.
///
/// Not inlined: LLVM assumes a function stays on one thread and may compute the address of a
/// thread-local once and reuse it after a call; across the C call in `catch_traps`, during
/// which a fiber may move between threads, that would restore the chain of the thread the
/// call started on and clobber that thread's innermost call. A call of its own computes the
/// address afresh.
#[inline(never)]
fn set_innermost(state: *const CallState) {
    INNERMOST.set(state);
}

/// The chain of `catch_traps` calls of a suspended computation (a fiber), detached from any
/// thread while it is suspended.
#[derive(Debug)]
pub struct CallStates(*const CallState);

// SAFETY: the states live on the suspended fiber's stack, which moves between threads with
// it; nothing reads them until they are swapped back in on the resuming thread.
unsafe impl Send for CallStates {}

impl CallStates {
    /// No calls.
    pub const EMPTY: CallStates = CallStates(ptr::null());
}

/// Makes `states` this thread's chain of active `catch_traps` calls and returns the chain that
/// was active. A fiber swaps its own chain in when it is resumed (on whatever thread) and out
/// when it suspends, so that a trap always unwinds to a call on the stack that trapped.
/// Cannot fail (nor panic), so that a chain is never left half swapped; a fiber resumed on
/// a thread then prepares it with [`prepare_thread`].
pub fn swap_call_states(states: CallStates) -> CallStates {
    CallStates(INNERMOST.replace(states.0))
}

/// Prepares this thread for traps (the handlers, its alternate signal stack), as
/// `catch_traps` does on entry, for code that runs on it without entering through it (a
/// fiber resumed here). Errors instead of panicking when that fails.
pub fn prepare_thread() -> Result<(), String> {
    panic::catch_unwind(|| {
        init_traps();
        alt_stack::ensure_installed();
    })
    .map_err(|payload| {
        let why = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        format!("cannot prepare this thread for traps: {why}")
    })
}

/// The innermost call state of this thread, for tests of nesting.
#[cfg(test)]
pub(super) fn innermost_ptr() -> *const CallState {
    INNERMOST.get()
}
