//! A conservative scan of the running stack: every word that might hold a value of a wasm
//! frame. Compiled code has no stack maps, so the exception collector (`tag.rs`) treats every
//! such word that looks like an exnref as one.
//!
//! A value live across a call is either in a stack slot of its frame or in a callee-saved
//! register, which a callee either left alone or saved in its own frame. So the words between
//! the current stack pointer and the entry of the outermost wasm call, plus the callee-saved
//! registers as they are now, hold every value of every frame in between.

/// Calls `visit` with the callee-saved registers and with every aligned word from the stack
/// pointer of this call up to (not including) `entry`.
///
/// Never inlined: its frame is below every frame of its callers, so their saved registers
/// and locals are in the scanned range.
///
/// # Safety
/// `entry` must be an address on the current stack, above this call, with everything between
/// mapped (the entry of a `catch_traps` call in this thread's chain,
/// `traphandlers::active_call_entry`).
#[inline(never)]
pub(crate) unsafe fn scan_stack(entry: usize, visit: &mut dyn FnMut(u64)) {
    let mut registers = [0u64; CALLEE_SAVED];
    let sp = capture(&mut registers);
    for value in registers {
        visit(value);
    }
    let mut at = sp.next_multiple_of(8);
    while at < entry {
        // SAFETY: `at` is an aligned address between the stack pointer and `entry`, which is
        // mapped (caller's guarantee).
        visit(unsafe { load(at) });
        at += 8;
    }
}

#[cfg(target_arch = "x86_64")]
const CALLEE_SAVED: usize = 6;

/// Stores rbx, rbp, r12–r15 into `registers`; returns the stack pointer. Should the
/// address operand take one of them, its caller's value was saved by this function's
/// prologue, in the scanned range.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn capture(registers: &mut [u64; CALLEE_SAVED]) -> usize {
    let sp: usize;
    // SAFETY: only stores into `registers` (48 bytes) and reads registers.
    unsafe {
        core::arch::asm!(
            "mov [{buf}], rbx",
            "mov [{buf} + 8], rbp",
            "mov [{buf} + 16], r12",
            "mov [{buf} + 24], r13",
            "mov [{buf} + 32], r14",
            "mov [{buf} + 40], r15",
            "mov {sp}, rsp",
            buf = in(reg) registers.as_mut_ptr(),
            sp = out(reg) sp,
            options(nostack, preserves_flags),
        );
    }
    sp
}

/// Reads the word at `addr` as plain bits: the stack holds words of any kind (some never
/// written), which a load through a Rust reference could not read as an integer.
///
/// # Safety
/// `addr` must be aligned and mapped readable.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn load(addr: usize) -> u64 {
    let value: u64;
    // SAFETY: the caller guarantees the address is readable.
    unsafe {
        core::arch::asm!(
            "mov {value}, qword ptr [{addr}]",
            addr = in(reg) addr,
            value = out(reg) value,
            options(nostack, readonly, preserves_flags),
        );
    }
    value
}

#[cfg(target_arch = "aarch64")]
const CALLEE_SAVED: usize = 11;

/// Stores x19–x29 into `registers`; returns the stack pointer (see the x86_64 version).
#[cfg(target_arch = "aarch64")]
#[inline(always)]
fn capture(registers: &mut [u64; CALLEE_SAVED]) -> usize {
    let sp: usize;
    // SAFETY: only stores into `registers` (88 bytes) and reads registers.
    unsafe {
        core::arch::asm!(
            "stp x19, x20, [{buf}]",
            "stp x21, x22, [{buf}, #16]",
            "stp x23, x24, [{buf}, #32]",
            "stp x25, x26, [{buf}, #48]",
            "stp x27, x28, [{buf}, #64]",
            "str x29, [{buf}, #80]",
            "mov {sp}, sp",
            buf = in(reg) registers.as_mut_ptr(),
            sp = out(reg) sp,
            options(nostack, preserves_flags),
        );
    }
    sp
}

/// See the x86_64 version.
///
/// # Safety
/// `addr` must be aligned and mapped readable.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn load(addr: usize) -> u64 {
    let value: u64;
    // SAFETY: the caller guarantees the address is readable.
    unsafe {
        core::arch::asm!(
            "ldr {value}, [{addr}]",
            addr = in(reg) addr,
            value = out(reg) value,
            options(nostack, readonly, preserves_flags),
        );
    }
    value
}

#[cfg(test)]
mod tests {
    use super::scan_stack;

    /// A word kept in a caller's frame (here behind a `black_box`, so it is in memory) is
    /// among the words the scan visits.
    #[test]
    fn the_scan_sees_a_callers_local() {
        let marker = std::hint::black_box(0x5eed_0000_1234_5678u64);
        let local = std::hint::black_box([marker; 1]);
        let entry = std::hint::black_box(&local) as *const _ as usize + 8;
        let mut seen = false;
        // SAFETY: `entry` is just past a local of this frame, on this stack, above the scan.
        unsafe { scan_stack(entry, &mut |w| seen |= w == marker) };
        assert!(seen);
        std::hint::black_box(&local);
    }
}
