//! Catching traps raised by compiled wasm code.
//!
//! Compiled code traps by faulting (guard pages of linear memory or of the
//! stack: `SIGSEGV`/`SIGBUS`), by executing Cranelift's trap instruction
//! (`SIGILL`), or by integer division (`SIGFPE`). This module only catches,
//! records and unwinds; mapping the trapping PC to a trap code happens later,
//! in normal context.
//!
//! How the pieces fit:
//! - [`register_code_range`] tells the signal handler which PCs are wasm code
//!   (`code_ranges.rs`: a table readable without locks).
//! - [`catch_traps`] runs a closure behind a C jump point (`setjmp.c`,
//!   `catch.rs`) and publishes its jump buffer in a thread-local.
//! - The process-wide handler (`signals.rs`, installed by [`init_traps`])
//!   claims a fault the kernel raised (`si_code > 0`) at a PC in registered
//!   code on a thread inside `catch_traps`. It records the PC, the fault
//!   address and an FP-chain backtrace (`backtrace.rs`), then rewrites the
//!   interrupted context so that the thread resumes, after the handler has
//!   returned, in a landing pad that jumps to the entry (per architecture:
//!   `x86_64.rs`, `aarch64.rs`). Leaving through `sigreturn` restores the
//!   signal mask and floating-point state, also when a handler installed
//!   after ours forwards the signal to us with the signal blocked.
//! - A fault on the guard page of the fiber stack the thread runs on, in host
//!   code, is reported on stderr before aborting (`stack_guard.rs`).
//! - Anything else goes to the handler that was installed before ours, with
//!   the signal mask that handler asked for.
//! - Each thread entering `catch_traps` gets an alternate signal stack
//!   (`alt_stack.rs`) so that even a stack overflow can run the handler.
//!
//! Linux only; register access lives in one file per architecture
//! (`x86_64.rs`, `aarch64.rs`).

mod alt_stack;
mod backtrace;
mod catch;
mod code_ranges;
mod raise;
mod signals;
mod stack_guard;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
use aarch64 as arch;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
use x86_64 as arch;

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!("traphandlers supports Linux on x86_64 and aarch64 only");

#[cfg(test)]
pub(crate) use catch::test_hooks;
pub use catch::{
    active_call_entry, catch_traps, innermost_call, prepare_thread, swap_call_states, CallStates,
    TrapRecord,
};
pub use code_ranges::{register_code_range, CodeRangeHandle};
pub use raise::raise_trap;
pub use signals::init_traps;

#[cfg(test)]
pub(crate) mod tests;
