//! The guard region of the fiber stack this thread runs on, so that the
//! signal handler can tell a host stack overflow on a fiber from other faults
//! and say what happened, instead of the process dying of a bare `SIGSEGV`.
//!
//! The region travels with a computation's chain of `catch_traps` calls
//! ([`CallStates`](super::CallStates)): a fiber swaps both in when it is
//! resumed and out when it suspends, so the thread always describes the
//! stack it is on. A thread's own stack is not described here; the Rust
//! runtime already reports overflows of it.

use std::cell::Cell;
use std::ops::Range;

/// A guard region `[start, end)`; empty when there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StackGuard {
    start: usize,
    end: usize,
}

impl StackGuard {
    /// No guard region known.
    pub(super) const NONE: StackGuard = StackGuard { start: 0, end: 0 };

    pub(super) fn new(range: Range<usize>) -> Self {
        StackGuard {
            start: range.start,
            end: range.end.max(range.start),
        }
    }

    fn contains(self, addr: usize) -> bool {
        self.start <= addr && addr < self.end
    }
}

thread_local! {
    /// The guard of the fiber stack this thread runs on.
    ///
    /// `const`-initialised and without a destructor, so reading it is a plain
    /// TLS load that is safe inside a signal handler.
    static CURRENT: Cell<StackGuard> = const { Cell::new(StackGuard::NONE) };
}

/// Makes `guard` this thread's current one and returns the previous one.
pub(super) fn replace(guard: StackGuard) -> StackGuard {
    CURRENT.replace(guard)
}

/// Whether `addr` lies in the guard region of the fiber stack this thread
/// runs on. Async-signal-safe.
pub(super) fn is_current_guard(addr: usize) -> bool {
    CURRENT
        .try_with(|guard| guard.get().contains(addr))
        .unwrap_or(false)
}

/// Says on stderr that host code overflowed its fiber stack at `addr`, then
/// aborts. Async-signal-safe: formats into a stack buffer and uses `write(2)`.
pub(super) fn report_host_overflow(addr: usize) -> ! {
    let mut message = Message::new();
    message.push(b"wasmjit: host code overflowed its async stack (fault at ");
    message.push_hex(addr);
    message.push(
        b", in the guard page below the fiber's stack); host functions get what \
          Config::async_stack_size leaves after Config::max_wasm_stack\n",
    );
    message.write_to_stderr();
    // SAFETY: `abort` is async-signal-safe and has no preconditions.
    unsafe { libc::abort() }
}

/// A fixed-size message buffer; what does not fit is dropped.
struct Message {
    len: usize,
    bytes: [u8; 512],
}

impl Message {
    fn new() -> Self {
        Message {
            len: 0,
            bytes: [0; 512],
        }
    }

    fn push(&mut self, text: &[u8]) {
        let n = text.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&text[..n]);
        self.len += n;
    }

    fn push_hex(&mut self, value: usize) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 2 + 2 * size_of::<usize>()];
        digits[..2].copy_from_slice(b"0x");
        for (i, digit) in digits[2..].iter_mut().enumerate() {
            let shift = 4 * (2 * size_of::<usize>() - 1 - i);
            *digit = DIGITS[(value >> shift) & 0xf];
        }
        self.push(&digits);
    }

    fn write_to_stderr(&self) {
        let mut written = 0;
        while written < self.len {
            let rest = &self.bytes[written..self.len];
            // SAFETY: `rest` is valid for reads of its length; `write` is
            // async-signal-safe.
            let n = unsafe { libc::write(libc::STDERR_FILENO, rest.as_ptr().cast(), rest.len()) };
            if n <= 0 {
                return;
            }
            written += n as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_zero_padded_to_the_word_size() {
        let mut message = Message::new();
        message.push(b"at ");
        message.push_hex(0xab_cdef);
        let expected = format!(
            "at {:#0width$x}",
            0xab_cdef,
            width = 2 + 2 * size_of::<usize>()
        );
        assert_eq!(&message.bytes[..message.len], expected.as_bytes());
    }

    #[test]
    fn guard_is_half_open_and_none_contains_nothing() {
        let guard = StackGuard::new(0x1000..0x2000);
        assert!(!guard.contains(0xfff));
        assert!(guard.contains(0x1000));
        assert!(guard.contains(0x1fff));
        assert!(!guard.contains(0x2000));
        assert!(!StackGuard::NONE.contains(0));
    }
}
