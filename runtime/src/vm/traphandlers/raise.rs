//! Traps raised by compiled code itself, without a signal.
//!
//! Code compiled without signals-based traps checks every trapping condition and calls the
//! `RaiseTrap` builtin with the trap code (see the compiler's `translate/traps.rs`). The
//! builtin's entry (`raise_trap_entry`, per architecture) passes on the trapping function's
//! return address, frame pointer and stack pointer; [`raise_from_wasm`] records the trap in
//! the innermost `catch_traps` call as the signal handler would, and jumps to its entry
//! through the same landing pad, from ordinary context.

use std::io::Write;
use std::num::NonZeroU8;

use wasmjit_environ::trap_codes::TrapCode;

use super::catch::CallState;
use super::code_ranges::is_wasm_pc;
use super::signals::TrapRegs;

pub use super::arch::raise_trap_entry as raise_trap;

/// Records the trap `code` raised by the compiled function that called the builtin (it
/// returns to `return_address`, and its frame pointer and stack pointer at the call were `fp`
/// and `sp`), then unwinds to the innermost `catch_traps` entry. Aborts when that call is not
/// compiled code running inside `catch_traps`: nothing else calls the builtin.
///
/// # Safety
/// Only through `raise_trap_entry`, called by compiled code.
pub(super) unsafe extern "C" fn raise_from_wasm(
    _vmctx: *mut crate::vm::vmcontext::VMContext,
    code: u32,
    return_address: usize,
    fp: usize,
    sp: usize,
) -> ! {
    // The call instruction itself: its source location is the trapping operator's, and the
    // lookups of trap sites and frames take the PC of an instruction.
    let pc = return_address.wrapping_sub(1);
    let code = u8::try_from(code).ok().and_then(NonZeroU8::new);
    // SAFETY: the caller is compiled code running inside `catch_traps` on this thread (checked
    // below before the state is used), which keeps the state live while it runs.
    let state = unsafe { CallState::innermost() };
    let (Some(code), Some(state)) = (code, state) else {
        internal_error("the trap builtin was called outside compiled code");
    };
    if !is_wasm_pc(pc) || !state.is_below_entry(sp) {
        internal_error("the trap builtin was called outside compiled code");
    }
    let regs = TrapRegs { pc, fp, sp };
    // SAFETY: the state is the innermost call's, whose closure runs the compiled code that
    // called us, below its entry (checked above); the frames the jump abandons are compiled
    // code and this function's, which owns nothing.
    unsafe { state.raise(TrapCode::from_raw(code), &regs) }
}

#[cold]
fn internal_error(what: &str) -> ! {
    let _ = writeln!(std::io::stderr(), "wasmjit: internal error: {what}");
    std::process::abort()
}
