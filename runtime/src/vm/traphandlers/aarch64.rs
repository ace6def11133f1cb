//! aarch64 Linux: registers of an interrupted context, redirecting it to a
//! landing pad, and test code.

use super::signals::{Landing, TrapRegs};

/// Reads PC, frame pointer (x29) and stack pointer from a signal's
/// `ucontext_t`.
///
/// # Safety
/// `context` must be the third argument of an `SA_SIGINFO` signal handler.
pub(super) unsafe fn trap_regs(context: *const libc::c_void) -> TrapRegs {
    // SAFETY: the kernel passes a valid `ucontext_t` to SA_SIGINFO handlers
    // (guaranteed by the caller).
    let mcontext = unsafe { &(*context.cast::<libc::ucontext_t>()).uc_mcontext };
    TrapRegs {
        pc: mcontext.pc as usize,
        fp: mcontext.regs[29] as usize,
        sp: mcontext.sp as usize,
    }
}

/// Makes the interrupted context resume at `landing.pc` as if it had just
/// been called with `landing.arg`: x0 holds the argument, SP is 16-byte
/// aligned at or below `landing.stack_top`, and the link register and frame
/// pointer (x30, x29) are null, so that a return or a frame walk from there
/// goes nowhere.
///
/// # Safety
/// `context` must be the third argument of an `SA_SIGINFO` signal handler,
/// and the stack below `landing.stack_top` must be writable and unused by
/// anything live.
pub(super) unsafe fn resume_at_landing(context: *mut libc::c_void, landing: &Landing) {
    // SAFETY: the kernel passes a valid, writable `ucontext_t` to SA_SIGINFO
    // handlers (guaranteed by the caller); it reloads the registers from it
    // when the handler returns.
    let mcontext = unsafe { &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext };
    mcontext.pc = landing.pc as u64;
    mcontext.sp = (landing.stack_top & !15) as u64;
    mcontext.regs[0] = landing.arg as u64;
    mcontext.regs[29] = 0;
    mcontext.regs[30] = 0;
}

/// The `RaiseTrap` builtin's entry (see `raise.rs`): called by compiled code as
/// `extern "C" fn(vmctx, code: u32)`, it adds what only the entry can see (the return address
/// in the link register, the trapping function's frame pointer, which the entry leaves
/// untouched, and the stack pointer at the call) as three more arguments and branches to
/// `raise_from_wasm`, which never returns.
///
/// # Safety
/// Only compiled code calls it (through the builtin table), from a function with a frame on
/// the frame-pointer chain, running inside `catch_traps`.
#[unsafe(naked)]
pub unsafe extern "C" fn raise_trap_entry(
    _vmctx: *mut crate::vm::vmcontext::VMContext,
    _code: u32,
) {
    std::arch::naked_asm!(
        "mov x2, x30",
        "mov x3, x29",
        "mov x4, sp",
        "b {raise}",
        raise = sym super::raise::raise_from_wasm,
    )
}

/// Machine code for the tests, one snippet per behaviour.
#[cfg(test)]
pub(super) mod test_code {
    const PUSH_FRAME: u32 = 0xa9bf_7bfd; // stp x29, x30, [sp, #-16]!
    const SET_FP: u32 = 0x9100_03fd; // mov x29, sp
    const POP_FRAME: u32 = 0xa8c1_7bfd; // ldp x29, x30, [sp], #16
    const RET: u32 = 0xd65f_03c0;
    const UDF: u32 = 0x0000_0000; // udf #0

    fn bl(from: usize, to: usize) -> u32 {
        let words = (to as isize - from as isize) / 4;
        0x9400_0000 | (words as u32 & 0x03ff_ffff)
    }

    fn encode(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// Traps immediately (`udf #0`).
    pub fn trap() -> Vec<u8> {
        encode(&[UDF])
    }

    /// `extern "C" fn(*const u64) -> u64` loading through its argument
    /// (`ldr x0, [x0]; ret`).
    pub fn load() -> Vec<u8> {
        encode(&[0xf940_0000, RET])
    }

    /// Calls itself forever, each call with a frame on the FP chain.
    pub fn recurse() -> Vec<u8> {
        encode(&[PUSH_FRAME, SET_FP, bl(8, 0)])
    }

    /// An outer function that calls an inner one which traps, both with
    /// frames. Returns the code, the trap's offset and the offset of the
    /// outer function's return address.
    pub fn call_then_trap() -> (Vec<u8>, usize, usize) {
        const INNER: usize = 32;
        let mut words = vec![PUSH_FRAME, SET_FP, bl(8, INNER), POP_FRAME, RET];
        words.resize(INNER / 4, UDF);
        words.extend_from_slice(&[PUSH_FRAME, SET_FP, UDF]);
        (encode(&words), INNER + 8, 12)
    }

    /// `extern "C" fn(pid, tid, signal) -> i64`: sends `signal` to the
    /// thread with the `tgkill` system call, whose arguments are already in
    /// place (`mov x8, #131; svc #0; ret`). The signal is delivered on the
    /// way back from the kernel, with the PC still in this code.
    pub fn send_signal() -> Vec<u8> {
        encode(&[0xd280_1068, 0xd400_0001, RET])
    }

    /// Integer division by zero yields 0 on aarch64 instead of trapping.
    pub fn divide_by_zero() -> Option<Vec<u8>> {
        None
    }

    /// Makes freshly written code visible to instruction fetch.
    pub fn flush_icache(code: &[u8]) {
        // Cache lines are at least 4 bytes; touching every word is slow but
        // simple, and these snippets are tiny.
        let words = (code.as_ptr() as usize..code.as_ptr() as usize + code.len()).step_by(4);
        for addr in words.clone() {
            // SAFETY: cleaning a data cache line of mapped memory only
            // affects the caches.
            unsafe { std::arch::asm!("dc cvau, {0}", in(reg) addr) };
        }
        // SAFETY: a barrier only orders the maintenance around it.
        unsafe { std::arch::asm!("dsb ish") };
        for addr in words {
            // SAFETY: invalidating an instruction cache line only affects
            // the caches.
            unsafe { std::arch::asm!("ic ivau, {0}", in(reg) addr) };
        }
        // SAFETY: barriers only order the maintenance above.
        unsafe { std::arch::asm!("dsb ish", "isb") };
    }
}
