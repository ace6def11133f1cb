//! The process-wide signal handler: catch traps in registered code, report a
//! host stack overflow on a fiber, chain everything else to the handler that
//! was installed before ours.
//!
//! A caught trap does not leave the handler by jumping: the handler records
//! it, then rewrites the interrupted context so that, once the handler has
//! returned, the thread resumes in a landing pad that jumps back to the
//! `catch_traps` entry. Returning normally lets the kernel's `sigreturn`
//! restore what signal delivery changed: the signal mask (a handler installed
//! after ours that forwards to us usually runs with the signal blocked) and
//! the floating-point state (x86_64 delivers signals with a default MXCSR).

use std::ffi::{c_int, c_void};
use std::mem;
use std::ptr;
use std::sync::{Once, OnceLock};

use super::arch;
use super::catch::CallState;
use super::code_ranges::is_wasm_pc;
use super::stack_guard;

/// Registers of an interrupted context that the trap handling needs.
#[derive(Clone, Copy, Debug)]
pub(super) struct TrapRegs {
    pub(super) pc: usize,
    pub(super) fp: usize,
    pub(super) sp: usize,
}

/// Where a caught trap resumes after the handler returns: as if `pc` had
/// been called with `arg` as its only argument, on a stack whose top is at
/// or below `stack_top`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Landing {
    pub(super) pc: usize,
    pub(super) arg: usize,
    /// An address inside the frames the trap abandons, below every frame
    /// that stays live; the landing pad's own frame goes below it.
    pub(super) stack_top: usize,
}

const SIGNALS: [c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers installed before ours, in `SIGNALS` order. Set before our
/// handler is installed, so the handler always finds it.
static PREVIOUS: OnceLock<[libc::sigaction; 4]> = OnceLock::new();

/// Installs the process-wide handlers for `SIGSEGV`, `SIGBUS`, `SIGILL` and
/// `SIGFPE`. Idempotent and thread-safe; `catch_traps` calls it too.
///
/// A signal our handler does not claim (not a fault raised by the kernel
/// for an instruction of registered code on a thread inside `catch_traps`)
/// goes to the handler that was installed before: a `SA_SIGINFO` or plain
/// handler is called, with the signal mask it asked for; for `SIG_DFL` the
/// default is restored so the fault kills the process as it would have; a
/// `SIG_IGN`ored signal sent by a process is ignored.
///
/// # Panics
/// If the kernel refuses to install a handler.
pub fn init_traps() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        PREVIOUS.get_or_init(|| SIGNALS.map(query_handler));
        for signal in SIGNALS {
            install_handler(signal);
        }
    });
}

fn query_handler(signal: c_int) -> libc::sigaction {
    // SAFETY: an all-zero `sigaction` is a valid value (SIG_DFL, no flags).
    let mut previous: libc::sigaction = unsafe { mem::zeroed() };
    // SAFETY: a null new action only reads the current one into `previous`.
    let result = unsafe { libc::sigaction(signal, ptr::null(), &mut previous) };
    assert_eq!(result, 0, "sigaction({signal}) failed");
    previous
}

fn install_handler(signal: c_int) {
    // SAFETY: an all-zero `sigaction` is a valid value (SIG_DFL, no flags).
    let mut action: libc::sigaction = unsafe { mem::zeroed() };
    action.sa_sigaction = handle_signal as *const () as libc::sighandler_t;
    // SA_ONSTACK: run on the alternate stack, which still has room when a
    // stack overflow hit the guard page.
    // SA_NODEFER plus the empty `sa_mask`: the kernel leaves the signal mask
    // as it was. A caught trap does not need it (`sigreturn` restores the
    // mask), but a signal we chain to the previous handler does: that
    // handler then runs with exactly the mask its own `sigaction` asked for
    // (see `chain_to_previous`), which a handler installed with SA_NODEFER,
    // or one that jumps out without restoring the mask, relies on.
    action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
    // SAFETY: `sa_mask` is a valid `sigset_t` to initialise.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is fully initialised and `handle_signal` has the
    // signature SA_SIGINFO requires.
    let result = unsafe { libc::sigaction(signal, &action, ptr::null_mut()) };
    assert_eq!(result, 0, "sigaction({signal}) failed");
}

/// The handler. Only async-signal-safe work: TLS loads, the lock-free range
/// lookup, reading and writing the context, the FP walk into fixed storage,
/// then a return, `write` + `abort`, or a call to the previous handler.
unsafe extern "C" fn handle_signal(
    signal: c_int,
    info: *mut libc::siginfo_t,
    context: *mut c_void,
) {
    // A positive `si_code` means the kernel raised the signal for the
    // instruction at the PC; otherwise a process sent it (`kill`, `raise`,
    // `sigqueue`), and it says nothing about the code that was interrupted.
    // SAFETY: the kernel passes a valid `siginfo_t`.
    let from_fault = unsafe { (*info).si_code } > 0;
    if from_fault {
        let fault_addr = matches!(signal, libc::SIGSEGV | libc::SIGBUS)
            // SAFETY: the kernel passes a valid `siginfo_t`, and for these
            // signals `si_addr` is the field it filled in.
            .then(|| unsafe { (*info).si_addr() } as usize);
        // SAFETY: the kernel passes a valid `ucontext_t` to SA_SIGINFO
        // handlers.
        let regs = unsafe { arch::trap_regs(context) };
        // SAFETY: the handler runs on the thread that trapped and returns
        // before that thread's `catch_traps` frames can go away.
        if let Some(state) = unsafe { CallState::innermost() } {
            if is_wasm_pc(regs.pc) && state.is_below_entry(regs.sp) {
                // SAFETY: registered code runs only inside the innermost
                // closure, on its stack, so the state is live, and `regs.sp`
                // was just checked to be below the entry.
                let landing = unsafe { state.record_trap(signal, &regs, fault_addr) };
                // SAFETY: `context` is the kernel's, and the landing's stack
                // lies in the frames this trap abandons.
                unsafe { arch::resume_at_landing(context, &landing) };
                return;
            }
        }
        if let Some(addr) = fault_addr.filter(|&addr| stack_guard::is_current_guard(addr)) {
            stack_guard::report_host_overflow(addr);
        }
    }
    // SAFETY: errno is this thread's; the interrupted code expects it kept.
    let errno = unsafe { *libc::__errno_location() };
    // SAFETY: called from the handler with the kernel's arguments.
    unsafe { chain_to_previous(signal, info, context, from_fault) };
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Hands a signal we do not claim to whoever had it before us.
///
/// # Safety
/// Only from `handle_signal`, with its arguments.
unsafe fn chain_to_previous(
    signal: c_int,
    info: *mut libc::siginfo_t,
    context: *mut c_void,
    from_fault: bool,
) {
    let Some(index) = SIGNALS.iter().position(|&s| s == signal) else {
        return;
    };
    let Some(previous) = PREVIOUS.get().map(|all| &all[index]) else {
        return;
    };

    match previous.sa_sigaction {
        // A sent signal that was ignored: returning consumes it.
        libc::SIG_IGN if !from_fault => {}
        libc::SIG_DFL | libc::SIG_IGN => {
            // Put the old disposition back and let the signal happen again
            // without us: a fault repeats on return (the kernel forces the
            // default action on an ignored fault); a sent signal is raised
            // again. The process dies the way it would have without us.
            // SAFETY: `previous` came from `sigaction`; `sigaction` and
            // `raise` are async-signal-safe.
            unsafe {
                libc::sigaction(signal, previous, ptr::null_mut());
                if !from_fault {
                    libc::raise(signal);
                }
            }
        }
        handler => {
            // Block what the kernel would have blocked had it called that
            // handler itself; `sigreturn` restores the interrupted mask when
            // we return.
            // SAFETY: `previous.sa_mask` is a valid set from `sigaction`;
            // `sigaddset` and `pthread_sigmask` are async-signal-safe.
            unsafe {
                let mut mask = previous.sa_mask;
                if previous.sa_flags & libc::SA_NODEFER == 0 {
                    libc::sigaddset(&mut mask, signal);
                }
                libc::pthread_sigmask(libc::SIG_BLOCK, &mask, ptr::null_mut());
            }
            if previous.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: with SA_SIGINFO the handler has this signature,
                // and we pass on the kernel's own arguments.
                unsafe {
                    let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                        mem::transmute(handler);
                    handler(signal, info, context);
                }
            } else {
                // SAFETY: without SA_SIGINFO the handler takes only the
                // signal.
                unsafe {
                    let handler: extern "C" fn(c_int) = mem::transmute(handler);
                    handler(signal);
                }
            }
        }
    }
}
