//! x86_64 Linux: registers of an interrupted context, and test code.

use super::signals::TrapRegs;

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

    /// x86 keeps instruction and data caches coherent.
    pub fn flush_icache(_code: &[u8]) {}
}
