//! A per-thread alternate signal stack, so that the handler still runs when a
//! stack overflow has used up the thread's own stack.
//!
//! Allocated the first time a thread enters `catch_traps` and freed by a TLS
//! destructor when the thread exits, never from the handler. A thread that
//! already has a large enough alternate stack keeps it.

use std::ptr;

/// Usable size of the stack; a guard page sits below it.
const STACK_SIZE: usize = 64 * 1024;

/// This thread's alternate stack, if we had to allocate one.
struct AltStack {
    /// The whole mapping, guard page included.
    mapping: *mut libc::c_void,
    mapping_len: usize,
    /// The usable part, as handed to `sigaltstack`.
    stack: *mut libc::c_void,
}

thread_local! {
    static ALT_STACK: Option<AltStack> = AltStack::install();
}

/// Makes sure this thread has an alternate signal stack of at least 64 KiB.
///
/// # Panics
/// If the stack cannot be mapped.
pub(super) fn ensure_installed() {
    // During thread teardown the TLS may be gone; traps still work then,
    // only a stack overflow is not survivable.
    let _ = ALT_STACK.try_with(|_| ());
}

impl AltStack {
    /// Installs a new alternate stack unless a big enough one is in place.
    fn install() -> Option<AltStack> {
        let current = current_alt_stack()?;
        if current.ss_flags & libc::SS_DISABLE == 0 && current.ss_size >= STACK_SIZE {
            return None;
        }

        // SAFETY: sysconf has no preconditions.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let stack_len = STACK_SIZE.next_multiple_of(page_size);
        let mapping_len = page_size + stack_len;
        // SAFETY: a fresh anonymous mapping aliases nothing.
        let mapping = unsafe {
            libc::mmap(
                ptr::null_mut(),
                mapping_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        assert!(
            mapping != libc::MAP_FAILED,
            "cannot map an alternate signal stack: {}",
            std::io::Error::last_os_error()
        );
        // The guard page is the lowest: stacks grow down.
        // SAFETY: the first page belongs to the mapping just made.
        let guarded = unsafe { libc::mprotect(mapping, page_size, libc::PROT_NONE) };
        assert_eq!(
            guarded, 0,
            "cannot protect the alternate stack's guard page"
        );

        let alt_stack = AltStack {
            mapping,
            mapping_len,
            // SAFETY: one page past the start is still inside the mapping.
            stack: unsafe { mapping.cast::<u8>().add(page_size).cast() },
        };
        let new = libc::stack_t {
            ss_sp: alt_stack.stack,
            ss_flags: 0,
            ss_size: stack_len,
        };
        // SAFETY: `new` describes memory that stays mapped until this thread's
        // TLS destructor, which disables it first. Fails only if we are
        // running on the current alternate stack; then keep that one (the
        // drop of `alt_stack` unmaps ours).
        if unsafe { libc::sigaltstack(&new, ptr::null_mut()) } != 0 {
            return None;
        }
        Some(alt_stack)
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // Still ours? Then stop using it before it disappears. (The Rust
        // runtime may already have disabled it at thread exit.)
        if let Some(current) = current_alt_stack() {
            if current.ss_flags & libc::SS_DISABLE == 0 && current.ss_sp == self.stack {
                let disable = libc::stack_t {
                    ss_sp: ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                // SAFETY: disabling only changes this thread's setting; we
                // are not on the alternate stack in a TLS destructor.
                unsafe { libc::sigaltstack(&disable, ptr::null_mut()) };
            }
        }
        // SAFETY: the mapping is ours and no longer in use as a stack.
        unsafe { libc::munmap(self.mapping, self.mapping_len) };
    }
}

fn current_alt_stack() -> Option<libc::stack_t> {
    let mut current = libc::stack_t {
        ss_sp: ptr::null_mut(),
        ss_flags: 0,
        ss_size: 0,
    };
    // SAFETY: a null new stack only reads the current setting.
    let result = unsafe { libc::sigaltstack(ptr::null(), &mut current) };
    (result == 0).then_some(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_gets_alt_stack_of_at_least_64_kib() {
        std::thread::spawn(|| {
            ensure_installed();
            let current = current_alt_stack().unwrap();
            assert_eq!(current.ss_flags & libc::SS_DISABLE, 0);
            assert!(current.ss_size >= STACK_SIZE);
        })
        .join()
        .unwrap();
    }
}
