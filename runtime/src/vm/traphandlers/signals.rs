//! The process-wide signal handler: catch traps in registered code, chain
//! everything else to the handler that was installed before ours.

use std::ffi::{c_int, c_void};
use std::mem;
use std::ptr;
use std::sync::{Once, OnceLock};

use super::arch;
use super::catch::CallState;
use super::code_ranges::is_wasm_pc;

/// Registers of an interrupted context that the trap handling needs.
#[derive(Clone, Copy, Debug)]
pub(super) struct TrapRegs {
    pub(super) pc: usize,
    pub(super) fp: usize,
    pub(super) sp: usize,
}

const SIGNALS: [c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers installed before ours, in `SIGNALS` order. Set before our
/// handler is installed, so the handler always finds it.
static PREVIOUS: OnceLock<[libc::sigaction; 4]> = OnceLock::new();

/// Installs the process-wide handlers for `SIGSEGV`, `SIGBUS`, `SIGILL` and
/// `SIGFPE`. Idempotent and thread-safe; `catch_traps` calls it too.
///
/// A signal our handler does not claim (not a trap in registered code on a
/// thread inside `catch_traps`) goes to the handler that was installed
/// before: a `SA_SIGINFO` or plain handler is called; for `SIG_DFL` the
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
    // SA_NODEFER plus the empty `sa_mask`: the kernel leaves the signal
    // mask as it was when the trap happened. A trap leaves the handler
    // through `siglongjmp` to a `sigsetjmp(buf, 0)` that saved no mask, so
    // nothing would unblock a signal the kernel blocked for the handler; with
    // nothing blocked there is nothing to restore, and entering
    // `catch_traps` costs no `sigprocmask` call.
    action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
    // SAFETY: `sa_mask` is a valid `sigset_t` to initialise.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is fully initialised and `handle_signal` has the
    // signature SA_SIGINFO requires.
    let result = unsafe { libc::sigaction(signal, &action, ptr::null_mut()) };
    assert_eq!(result, 0, "sigaction({signal}) failed");
}

/// The handler. Only async-signal-safe work: a TLS load, the lock-free range
/// lookup, reading the context, the FP walk into fixed storage, then either
/// `siglongjmp` or a call to the previous handler.
unsafe extern "C" fn handle_signal(
    signal: c_int,
    info: *mut libc::siginfo_t,
    context: *mut c_void,
) {
    // SAFETY: the handler runs on the thread that trapped and returns before
    // that thread's `catch_traps` frames can go away.
    if let Some(state) = unsafe { CallState::innermost() } {
        // SAFETY: the kernel passes a valid `ucontext_t` to SA_SIGINFO
        // handlers.
        let regs = unsafe { arch::trap_regs(context) };
        if is_wasm_pc(regs.pc) {
            let fault_addr = matches!(signal, libc::SIGSEGV | libc::SIGBUS)
                // SAFETY: the kernel passes a valid `siginfo_t`, and for
                // these signals `si_addr` is the field it filled in.
                .then(|| unsafe { (*info).si_addr() } as usize);
            // SAFETY: registered code runs only inside the innermost
            // closure, on its stack, so the state and its jump buffer are
            // live and `regs.sp` is below the entry.
            unsafe { state.record_trap_and_unwind(signal, &regs, fault_addr) };
        }
    }
    // SAFETY: errno is this thread's; the interrupted code expects it kept.
    let errno = unsafe { *libc::__errno_location() };
    // SAFETY: called from the handler with the kernel's arguments.
    unsafe { chain_to_previous(signal, info, context) };
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Hands a signal we do not claim to whoever had it before us.
///
/// # Safety
/// Only from `handle_signal`, with its arguments.
unsafe fn chain_to_previous(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let Some(index) = SIGNALS.iter().position(|&s| s == signal) else {
        return;
    };
    let Some(previous) = PREVIOUS.get().map(|all| &all[index]) else {
        return;
    };
    // A positive `si_code` means the kernel raised the signal for the
    // instruction at the PC, which runs again when we return; otherwise a
    // process sent it and returning consumes it.
    // SAFETY: `info` is valid (caller's guarantee).
    let from_fault = unsafe { (*info).si_code } > 0;

    match previous.sa_sigaction {
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
        handler if previous.sa_flags & libc::SA_SIGINFO != 0 => {
            // SAFETY: with SA_SIGINFO the handler has this signature, and we
            // pass on the kernel's own arguments.
            unsafe {
                let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                    mem::transmute(handler);
                handler(signal, info, context);
            }
        }
        handler => {
            // SAFETY: without SA_SIGINFO the handler takes only the signal.
            unsafe {
                let handler: extern "C" fn(c_int) = mem::transmute(handler);
                handler(signal);
            }
        }
    }
}
