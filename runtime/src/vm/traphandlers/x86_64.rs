//! x86_64 Linux: registers of an interrupted context, redirecting it to a
//! landing pad, and test code.

use super::signals::{Landing, TrapRegs};

/// Reads PC, frame pointer and stack pointer from a signal's `ucontext_t`.
///
/// # Safety
/// `context` must be the third argument of an `SA_SIGINFO` signal handler.
pub(super) unsafe fn trap_regs(context: *const libc::c_void) -> TrapRegs {
    // SAFETY: the kernel passes a valid `ucontext_t` to SA_SIGINFO handlers
    // (guaranteed by the caller).
    let gregs = unsafe { &(*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
    TrapRegs {
        pc: gregs[libc::REG_RIP as usize] as usize,
        fp: gregs[libc::REG_RBP as usize] as usize,
        sp: gregs[libc::REG_RSP as usize] as usize,
    }
}

/// Makes the interrupted context resume at `landing.pc` as if it had just
/// been called with `landing.arg`: RDI holds the argument, RSP points at a
/// (null) return address with RSP ≡ 8 (mod 16) as at any function entry, and
/// RBP is null so that frame walks stop there.
///
/// # Safety
/// `context` must be the third argument of an `SA_SIGINFO` signal handler,
/// and the 16 bytes below `landing.stack_top` writable stack that nothing
/// live uses any more.
pub(super) unsafe fn resume_at_landing(context: *mut libc::c_void, landing: &Landing) {
    let sp = (landing.stack_top & !15) - 8;
    // SAFETY: `sp` is one of the 16 bytes below `stack_top`, writable and
    // unused (caller's guarantee), and aligned for a word.
    unsafe { (sp as *mut usize).write(0) };
    // SAFETY: the kernel passes a valid, writable `ucontext_t` to SA_SIGINFO
    // handlers (guaranteed by the caller); it reloads the registers from it
    // when the handler returns.
    let gregs = unsafe { &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
    gregs[libc::REG_RIP as usize] = landing.pc as i64;
    gregs[libc::REG_RDI as usize] = landing.arg as i64;
    gregs[libc::REG_RSP as usize] = sp as i64;
    gregs[libc::REG_RBP as usize] = 0;
}

/// The `RaiseTrap` builtin's entry (see `raise.rs`): called by compiled code as
/// `extern "C" fn(vmctx, code: u32)`, it adds what only the entry can see (the return address
/// into the trapping function, that function's frame pointer, which the entry leaves
/// untouched, and the stack pointer at the call) as three more arguments and jumps to
/// `raise_from_wasm`, which never returns. The stack is left as at the entry, so the jump
/// target sees a normal call.
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
        "mov rdx, [rsp]",
        "mov rcx, rbp",
        "lea r8, [rsp + 8]",
        "lea rax, [rip + {raise}]",
        "jmp rax",
        raise = sym super::raise::raise_from_wasm,
    )
}

/// Machine code for the tests, one snippet per behaviour.
#[cfg(test)]
pub(super) mod test_code {
    /// Traps immediately (`ud2`).
    pub fn trap() -> Vec<u8> {
        vec![0x0f, 0x0b]
    }

    /// `extern "C" fn(*const u64) -> u64` loading through its argument
    /// (`mov rax, [rdi]; ret`).
    pub fn load() -> Vec<u8> {
        vec![0x48, 0x8b, 0x07, 0xc3]
    }

    /// Calls itself forever, each call with a frame on the FP chain
    /// (`push rbp; mov rbp, rsp; call <start>`).
    pub fn recurse() -> Vec<u8> {
        let mut code = vec![0x55, 0x48, 0x89, 0xe5, 0xe8];
        let rel32 = -((code.len() + 4) as i32);
        code.extend_from_slice(&rel32.to_le_bytes());
        code
    }

    /// An outer function that calls an inner one which traps, both with
    /// frames. Returns the code, the trap's offset and the offset of the
    /// outer function's return address.
    pub fn call_then_trap() -> (Vec<u8>, usize, usize) {
        const INNER: usize = 16;
        // outer: push rbp; mov rbp, rsp; call inner; pop rbp; ret
        let mut code = vec![0x55, 0x48, 0x89, 0xe5, 0xe8];
        let return_address = code.len() + 4;
        code.extend_from_slice(&((INNER - return_address) as i32).to_le_bytes());
        code.extend_from_slice(&[0x5d, 0xc3]);
        code.resize(INNER, 0xcc);
        // inner: push rbp; mov rbp, rsp; ud2
        code.extend_from_slice(&[0x55, 0x48, 0x89, 0xe5, 0x0f, 0x0b]);
        (code, INNER + 4, return_address)
    }

    /// Divides 1 by 0 (`mov eax, 1; cdq; xor ecx, ecx; idiv ecx; ret`).
    pub fn divide_by_zero() -> Option<Vec<u8>> {
        Some(vec![
            0xb8, 0x01, 0x00, 0x00, 0x00, 0x99, 0x31, 0xc9, 0xf7, 0xf9, 0xc3,
        ])
    }

    /// `extern "C" fn(pid, tid, signal) -> i64`: sends `signal` to the
    /// thread with the `tgkill` system call, whose arguments are already in
    /// place (`mov eax, 234; syscall; ret`). The signal is delivered on the
    /// way back from the kernel, with the PC still in this code.
    pub fn send_signal() -> Vec<u8> {
        vec![0xb8, 0xea, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3]
    }

    /// Reads MXCSR, the SSE control and status register.
    pub fn mxcsr() -> u32 {
        let mut value = 0u32;
        // SAFETY: `stmxcsr` only stores the register to the given word.
        unsafe {
            std::arch::asm!("stmxcsr [{0}]", in(reg) std::ptr::addr_of_mut!(value), options(nostack))
        };
        value
    }

    /// Writes MXCSR.
    pub fn set_mxcsr(value: u32) {
        // SAFETY: the tests only change the rounding mode, which Rust code
        // tolerates (it changes results of inexact operations, not safety).
        unsafe {
            std::arch::asm!("ldmxcsr [{0}]", in(reg) std::ptr::addr_of!(value), options(nostack))
        };
    }

    /// x86 keeps instruction and data caches coherent.
    pub fn flush_icache(_code: &[u8]) {}
}
