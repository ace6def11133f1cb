//! The entry that traps unwind to: [`catch_traps`] and its per-call state.
//!
//! Each call keeps a [`CallState`] on its own stack frame and publishes it in
//! a thread-local while the closure runs; the states of nested calls form a
//! linked list through `prev`. The signal handler only ever reads the
//! innermost one: it records a trap into it and has the thread resume in
//! `wasmjit_traps_unwind`, which jumps back to the entry.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_int, c_void};
use std::mem::MaybeUninit;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use super::alt_stack;
use super::backtrace::Backtrace;
use super::signals::{init_traps, Landing, TrapRegs};
use super::stack_guard::{self, StackGuard};
use wasmjit_environ::trap_codes::TrapCode;

extern "C" {
    /// `setjmp.c`: sets a jump point, calls `body(payload, jmp_buf)`, and
    /// returns 1 when `body` returns or 0 when a trap jumped back.
    fn wasmjit_traps_call_with_jmp_buf(
        body: unsafe extern "C" fn(payload: *mut c_void, jmp_buf: *mut c_void),
        payload: *mut c_void,
    ) -> c_int;

    /// `setjmp.c`: jumps to a jump point set above; never returns. The
    /// landing pad of a caught trap: the handler makes the thread resume at
    /// its entry, in normal context, once the handler has returned.
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
    /// The signal that reported the trap (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`), or 0 for
    /// a trap compiled code raised itself.
    pub signal: i32,
    /// The code of a trap compiled code raised itself, through the `RaiseTrap` builtin
    /// (`raise.rs`); `None` for a signal, whose code is the trap site's at `pc`.
    pub raised: Option<TrapCode>,
    /// The PC of the trapping instruction (of the call of the builtin, for a raised trap).
    pub pc: usize,
    /// The faulting address (`si_addr`), for `SIGSEGV` and `SIGBUS` only.
    pub fault_addr: Option<usize>,
    /// Whether `fault_addr` lies on the stack the trapping code ran on,
    /// between just below its stack pointer and the entry: the code ran into
    /// a guard page of its stack.
    pub stack_fault: bool,
    /// PCs innermost first: `pc`, then the return addresses found up the
    /// frame-pointer chain while they are in registered code (at most 256).
    pub backtrace: Vec<usize>,
}

/// How far below the stack pointer an instruction that overflows the stack
/// may touch: a push or a call writes just below it, aarch64's `stp` with
/// pre-decrement 16 bytes below; x86_64's stack probes move the stack
/// pointer page by page. A page covers them with room to spare.
#[cfg(not(target_arch = "aarch64"))]
const STACK_ACCESS_BELOW_SP: usize = 4096;
/// As above, but aarch64's probe loop (frames of more than 3 pages) stores
/// at `sp - n * 4096` with the stack pointer still at the frame's top: as far
/// below as the frame reaches. Wasm frames stay well below 4 MiB (the
/// validator allows 50 000 locals, 800 KiB as `v128`s, plus their spills);
/// compiled code makes no other access below the stack pointer.
#[cfg(target_arch = "aarch64")]
const STACK_ACCESS_BELOW_SP: usize = 4 << 20;

/// One `catch_traps` call in progress.
///
/// `repr(C)` with the uninitialised `trap` last: when Rust put it between fields that are
/// zeroed on entry, LLVM merged those stores into one `memset` over it as well (zeroing
/// uninitialised bytes is allowed), 2 KiB on every host→wasm call.
#[repr(C)]
pub(super) struct CallState {
    /// The `sigjmp_buf` on the C entry's frame; null until the closure runs.
    jmp_buf: Cell<*mut c_void>,
    /// The next outer call on this thread, made innermost again on exit.
    prev: *const CallState,
    /// An address in `catch_traps`' own frame: every frame the closure
    /// pushes lies below it, so the backtrace never reads at or above it.
    entry_sp: Cell<usize>,
    /// An address in the frame of `run_body`, below the C entry's frame: the
    /// landing pad of a trap runs below it, in frames the trap abandons.
    landing_sp: Cell<usize>,
    /// A panic of the closure, resumed once the C frame is gone.
    panic: Cell<Option<Box<dyn Any + Send>>>,
    /// Written by the signal handler, read after it jumped back; uninitialised until then.
    /// Not initialised on entry: with its 2 KiB backtrace buffer that was a `memset` costing
    /// half of a host→wasm call of a nop.
    trap: UnsafeCell<MaybeUninit<RawTrap>>,
}

struct RawTrap {
    signal: c_int,
    raised: Option<TrapCode>,
    pc: usize,
    sp: usize,
    fault_addr: Option<usize>,
    backtrace: Backtrace,
}

impl CallState {
    /// Whether `sp` lies below this call's entry, where the frames of its
    /// closure are: true for every trap of code the closure runs. A trap
    /// whose stack is elsewhere is not ours to unwind. Async-signal-safe.
    pub(super) fn is_below_entry(&self, sp: usize) -> bool {
        sp < self.landing_sp.get()
    }

    /// Records a trap and returns where the thread must resume to unwind to
    /// this call's entry. Async-signal-safe.
    ///
    /// # Safety
    /// Only from the signal handler, for a trap on this state's thread at a
    /// PC in registered code, with `self` the innermost call (so the closure
    /// is running and the jump buffer is live), and `regs.sp` below the
    /// entry ([`is_below_entry`](Self::is_below_entry)).
    pub(super) unsafe fn record_trap(
        &self,
        signal: c_int,
        regs: &TrapRegs,
        fault_addr: Option<usize>,
    ) -> Landing {
        // SAFETY: the closure is running (it is what trapped), so nothing
        // else accesses `trap` until `catch_traps` regains control, which
        // happens only through the landing pad.
        let trap = unsafe { &mut *self.trap.get() };
        let trap = trap.write(RawTrap {
            signal,
            raised: None,
            pc: regs.pc,
            sp: regs.sp,
            fault_addr,
            backtrace: Backtrace::new(),
        });
        // SAFETY: `[regs.sp, entry_sp)` is the live stack between the trap
        // and the entry (caller's guarantee), hence readable.
        unsafe { trap.backtrace.capture(regs, self.entry_sp.get()) };
        Landing {
            pc: wasmjit_traps_unwind as *const () as usize,
            arg: self.jmp_buf.get() as usize,
            stack_top: self.landing_sp.get(),
        }
    }

    /// Records a trap that compiled code raised itself (`raise.rs`) and jumps back to this
    /// call's entry. Not in a signal handler: the jump leaves from ordinary context.
    ///
    /// # Safety
    /// As [`record_trap`](Self::record_trap), called by the `RaiseTrap` builtin instead of
    /// the signal handler; the frames between `regs.sp` and the entry are compiled code and
    /// frames that own nothing.
    pub(super) unsafe fn raise(&self, code: TrapCode, regs: &TrapRegs) -> ! {
        // SAFETY: as in `record_trap`: the closure is running and calls nothing else now.
        let trap = unsafe { &mut *self.trap.get() };
        let trap = trap.write(RawTrap {
            signal: 0,
            raised: Some(code),
            pc: regs.pc,
            sp: regs.sp,
            fault_addr: None,
            backtrace: Backtrace::new(),
        });
        // SAFETY: `[regs.sp, entry_sp)` is the live stack between the caller and the entry.
        unsafe { trap.backtrace.capture(regs, self.entry_sp.get()) };
        // SAFETY: the jump buffer is the C entry's, live while the closure runs.
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
    // Any address in this frame lies below the C entry's frame (whose saved registers the
    // jump back reloads) and above every frame of the closure: a trap's landing pad may run
    // below it.
    let frame_marker = 0u8;
    call.state
        .landing_sp
        .set(ptr::addr_of!(frame_marker) as usize);
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
/// one keeps working. With `signals`, installs the signal handlers ([`init_traps`])
/// and this thread's alternate signal stack on first use; without, `f` must run
/// only code that raises its traps itself (compiled without signals-based traps),
/// and nothing is installed.
///
/// # Safety
/// A trap abandons every frame between the trapping instruction and this
/// call without running destructors: those frames must be JIT code, or Rust
/// frames (`f`'s own, and whatever it calls on the way into compiled code)
/// that own nothing needing drop and hold no locks. Compiled code must run
/// on the thread's own stack, below this call.
///
/// `#[inline]`: every host→wasm call enters here, and whether rustc inlines it into
/// `invoke_wasm` otherwise depends on how the crate happens to be split into codegen units
/// (the split after an unrelated change once cost a nop call about 15 %).
#[inline]
pub unsafe fn catch_traps(signals: bool, f: &mut dyn FnMut()) -> Result<(), TrapRecord> {
    if signals {
        init_traps();
        alt_stack::ensure_installed();
    }

    let state = CallState {
        jmp_buf: Cell::new(ptr::null_mut()),
        prev: INNERMOST.get(),
        entry_sp: Cell::new(0),
        landing_sp: Cell::new(0),
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
    // SAFETY: `returned == 0` means the landing pad jumped back, after the signal handler
    // wrote the whole record (`record_trap`); nothing accesses it any more. Read in place:
    // moving it out would copy the 2 KiB buffer.
    let trap = unsafe { (*state.trap.get()).assume_init_ref() };
    let stack = trap.sp.saturating_sub(STACK_ACCESS_BELOW_SP)..state.entry_sp.get();
    Err(TrapRecord {
        signal: trap.signal,
        raised: trap.raised,
        pc: trap.pc,
        fault_addr: trap.fault_addr,
        stack_fault: trap.fault_addr.is_some_and(|addr| stack.contains(&addr)),
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

/// The identity of this thread's innermost `catch_traps` call (the address of its state; 0
/// when there is none), for [`active_call_entry`]. Not inlined, for the reason given at
/// [`set_innermost`].
#[inline(never)]
pub fn innermost_call() -> usize {
    INNERMOST.get() as usize
}

/// The entry address of the call `id` (from [`innermost_call`]) if it is in this thread's
/// chain of active calls, `None` otherwise (it returned, or it is on a suspended fiber). A
/// call in the chain runs on the current stack: every frame it pushed, and every frame
/// running now, lies between the current stack pointer and that address.
#[inline(never)]
pub fn active_call_entry(id: usize) -> Option<usize> {
    let mut state = INNERMOST.get();
    while !state.is_null() {
        // SAFETY: every state in the chain is on the frame of a `catch_traps` still running
        // (each is unlinked before its frame returns, and a suspended fiber's chain is swapped
        // out of the thread).
        let s = unsafe { &*state };
        if state as usize == id {
            return Some(s.entry_sp.get());
        }
        state = s.prev;
    }
    None
}

/// The trap handler's per-thread state of a computation: its chain of `catch_traps` calls
/// and the guard region of the stack it runs on. Detached from any thread while the
/// computation (a fiber) is suspended.
#[derive(Debug)]
pub struct CallStates {
    innermost: *const CallState,
    guard: StackGuard,
}

// SAFETY: the states live on the suspended fiber's stack, which moves between threads with
// it; nothing reads them until they are swapped back in on the resuming thread.
unsafe impl Send for CallStates {}

impl CallStates {
    /// No calls, and no stack guard known.
    pub const EMPTY: CallStates = CallStates {
        innermost: ptr::null(),
        guard: StackGuard::NONE,
    };

    /// No calls yet, on a stack (a fiber's) whose guard region is `guard`: a fault there in
    /// host code is reported as a host stack overflow before the process aborts.
    pub fn on_stack_with_guard(guard: Range<usize>) -> CallStates {
        CallStates {
            innermost: ptr::null(),
            guard: StackGuard::new(guard),
        }
    }
}

/// Makes `states` this thread's chain of active `catch_traps` calls and stack guard, and
/// returns the ones that were active. A fiber swaps its own in when it is resumed (on whatever
/// thread) and out when it suspends, so that a trap always unwinds to a call on the stack that
/// trapped. Cannot fail (nor panic), so that a chain is never left half swapped; a fiber
/// resumed on a thread then prepares it with [`prepare_thread`].
pub fn swap_call_states(states: CallStates) -> CallStates {
    CallStates {
        innermost: INNERMOST.replace(states.innermost),
        guard: stack_guard::replace(states.guard),
    }
}

/// Prepares this thread for signals-based traps (the handlers, its alternate signal stack),
/// as `catch_traps` does on entry, for code that runs on it without entering through it (a
/// fiber resumed here). Errors instead of panicking when that fails.
pub fn prepare_thread() -> Result<(), String> {
    panic::catch_unwind(|| {
        #[cfg(test)]
        test_hooks::maybe_fail_preparation();
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

/// Failure injection for the tests of what a failed thread preparation leaves behind.
#[cfg(test)]
pub(crate) mod test_hooks {
    use std::cell::Cell;

    thread_local! {
        static FAIL_NEXT: Cell<bool> = const { Cell::new(false) };
    }

    /// Makes the next [`prepare_thread`](super::prepare_thread) on this thread fail.
    pub(crate) fn fail_next_preparation() {
        FAIL_NEXT.set(true);
    }

    pub(super) fn maybe_fail_preparation() {
        if FAIL_NEXT.replace(false) {
            panic!("injected failure");
        }
    }
}
