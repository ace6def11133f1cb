//! Walking the frame-pointer chain of wasm frames from inside the signal
//! handler, into fixed storage (the handler may not allocate).
//!
//! Every wasm frame keeps the standard chain on x86_64 and aarch64:
//! `[fp]` is the caller's fp and `[fp + 8]` the return address.

use std::mem::{align_of, size_of, MaybeUninit};

use super::code_ranges::is_wasm_pc;
use super::signals::TrapRegs;

/// Most frames recorded for one trap.
pub(super) const MAX_FRAMES: usize = 256;

/// PCs of a trap, innermost first: the trapping PC, then return addresses.
pub(super) struct Backtrace {
    len: usize,
    pcs: [MaybeUninit<usize>; MAX_FRAMES],
}

impl Backtrace {
    /// An empty backtrace; cheap, the storage stays uninitialised.
    pub(super) fn new() -> Self {
        Backtrace {
            len: 0,
            pcs: [MaybeUninit::uninit(); MAX_FRAMES],
        }
    }

    pub(super) fn as_slice(&self) -> &[usize] {
        // SAFETY: `push` initialised the first `len` entries.
        unsafe { std::slice::from_raw_parts(self.pcs.as_ptr().cast::<usize>(), self.len) }
    }

    fn push(&mut self, pc: usize) -> bool {
        if self.len == MAX_FRAMES {
            return false;
        }
        self.pcs[self.len].write(pc);
        self.len += 1;
        true
    }

    /// Records `regs.pc`, then the return addresses up the FP chain while
    /// they point into registered code. Async-signal-safe.
    ///
    /// Only words inside `[regs.sp, entry_sp)` are read, each frame must lie
    /// above the previous one, and at most [`MAX_FRAMES`] are taken, so a
    /// corrupt frame pointer ends the walk instead of escaping the stack.
    ///
    /// # Safety
    /// `[regs.sp, entry_sp)` must be readable memory (the live part of the
    /// stack the trap happened on, up to the entry of `catch_traps`).
    pub(super) unsafe fn capture(&mut self, regs: &TrapRegs, entry_sp: usize) {
        self.len = 0;
        self.push(regs.pc);
        let mut fp = regs.fp;
        loop {
            let in_bounds = fp >= regs.sp
                && fp.is_multiple_of(align_of::<usize>())
                && fp
                    .checked_add(2 * size_of::<usize>())
                    .is_some_and(|frame_end| frame_end <= entry_sp);
            if !in_bounds {
                break;
            }
            // SAFETY: `fp` and `fp + 8` are aligned words inside
            // `[regs.sp, entry_sp)`, readable by the caller's guarantee.
            let (caller_fp, return_address) = unsafe {
                let frame = fp as *const usize;
                (frame.read(), frame.add(1).read())
            };
            // A return address follows its call instruction, which may be
            // the last one of a range, so look up the byte before it.
            if !is_wasm_pc(return_address.wrapping_sub(1)) || !self.push(return_address) {
                break;
            }
            // Callers' frames are at higher addresses; anything else is a
            // cycle or garbage.
            if caller_fp <= fp {
                break;
            }
            fp = caller_fp;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::code_ranges::register_code_range;
    use super::*;

    /// A fake stack of `[fp, return address]` frames, lowest first.
    struct FakeStack {
        words: Vec<usize>,
    }

    impl FakeStack {
        /// Frames chained upwards; frame `i` returns to `returns[i]`.
        fn new(returns: &[usize]) -> Self {
            let mut words = vec![0; 2 * returns.len() + 2];
            let base = words.as_ptr() as usize;
            for (i, &ret) in returns.iter().enumerate() {
                words[2 * i] = base + 2 * size_of::<usize>() * (i + 1);
                words[2 * i + 1] = ret;
            }
            FakeStack { words }
        }

        fn addr(&self, word: usize) -> usize {
            self.words.as_ptr() as usize + word * size_of::<usize>()
        }

        fn regs(&self, pc: usize) -> TrapRegs {
            TrapRegs {
                pc,
                fp: self.addr(0),
                sp: self.addr(0),
            }
        }

        fn end(&self) -> usize {
            self.addr(self.words.len())
        }
    }

    const CODE: usize = 0x7b00_0000_0000;

    #[test]
    fn walk_stops_at_first_unregistered_return_address() {
        let _code = register_code_range(CODE, CODE + 0x1000);
        let stack = FakeStack::new(&[CODE + 0x10, CODE + 0x20, 0x1234, CODE + 0x30]);
        let mut trace = Backtrace::new();
        // SAFETY: the fake stack is readable memory up to `end`.
        unsafe { trace.capture(&stack.regs(CODE + 4), stack.end()) };
        assert_eq!(trace.as_slice(), [CODE + 4, CODE + 0x10, CODE + 0x20]);
    }

    #[test]
    fn walk_never_reads_at_or_above_entry_sp() {
        let _code = register_code_range(CODE + 0x1000, CODE + 0x2000);
        let ret = CODE + 0x1010;
        let stack = FakeStack::new(&[ret, ret, ret, ret]);
        let mut trace = Backtrace::new();
        // Only the first two frames lie below this bound.
        // SAFETY: the fake stack is readable memory up to `end`.
        unsafe { trace.capture(&stack.regs(ret), stack.addr(4)) };
        assert_eq!(trace.as_slice().len(), 3);
    }

    #[test]
    fn walk_stops_on_frame_pointer_cycle() {
        let _code = register_code_range(CODE + 0x2000, CODE + 0x3000);
        let ret = CODE + 0x2010;
        let mut stack = FakeStack::new(&[ret, ret]);
        stack.words[2] = stack.addr(0);
        let mut trace = Backtrace::new();
        // SAFETY: the fake stack is readable memory up to `end`.
        unsafe { trace.capture(&stack.regs(ret), stack.end()) };
        assert_eq!(trace.as_slice().len(), 3);
    }

    #[test]
    fn walk_keeps_at_most_max_frames() {
        let _code = register_code_range(CODE + 0x3000, CODE + 0x4000);
        let ret = CODE + 0x3010;
        let stack = FakeStack::new(&[ret; 2 * MAX_FRAMES]);
        let mut trace = Backtrace::new();
        // SAFETY: the fake stack is readable memory up to `end`.
        unsafe { trace.capture(&stack.regs(ret), stack.end()) };
        assert_eq!(trace.as_slice().len(), MAX_FRAMES);
    }
}
