//! Handlers that abort on any fault signal, for tests that must show no signal is raised (code
//! compiled without signals-based traps). Shared by `runtime/tests/all/signals_off.rs` and
//! the root package's `tests/spec_no_signals.rs` (through `#[path]`).

/// The signals a trap could raise.
pub const FATAL: [i32; 4] = [libc::SIGSEGV, libc::SIGILL, libc::SIGFPE, libc::SIGBUS];

extern "C" fn abort_on_signal(_signal: i32) {
    const MESSAGE: &[u8] = b"a signal was raised with signals-based traps off\n";
    // SAFETY: `write` and `abort` are async-signal-safe.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::abort();
    }
}

/// Makes every signal of [`FATAL`] abort the process with a message.
pub fn install() {
    for signal in FATAL {
        // SAFETY: an all-zero `sigaction` is valid; the handler has the plain signature.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = abort_on_signal as *const () as libc::sighandler_t;
            assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
        }
    }
}

/// The first signal of [`FATAL`] whose handler is no longer the one [`install`] set (someone,
/// such as the runtime, replaced it), if any.
pub fn replaced() -> Option<i32> {
    FATAL.into_iter().find(|&signal| {
        // SAFETY: an all-zero `sigaction` is valid; a null new action only reads the current one.
        let current = unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut current);
            current.sa_sigaction
        };
        current != abort_on_signal as *const () as libc::sighandler_t
    })
}
