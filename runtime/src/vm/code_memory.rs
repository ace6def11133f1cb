//! Executable memory: one mapping per unit of code (a module's text, or one function type's
//! trampolines), either an anonymous copy that is relocated and then made read-execute with
//! one `mprotect`, or a precompiled file's own pages mapped read-execute (no copy) when the
//! text needs no relocation writes. Unmapped when dropped.

use anyhow::{bail, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::ptr::NonNull;

/// A read-execute mapping holding `len` bytes of code.
pub(crate) struct CodeMemory {
    ptr: NonNull<u8>,
    /// Bytes mapped (0 for empty code, which maps nothing).
    mapped: usize,
    len: usize,
}

// SAFETY: the memory is immutable once made executable; the pointer is only read through.
unsafe impl Send for CodeMemory {}
// SAFETY: as above.
unsafe impl Sync for CodeMemory {}

/// The host's page size.
pub(crate) fn page_size() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096).max(4096)
}

impl CodeMemory {
    /// A copy of `text`, patched by `relocate` (given the writable copy and the address it
    /// will execute at) before it becomes read-execute.
    pub(crate) fn copy(
        text: &[u8],
        relocate: impl FnOnce(&mut [u8], usize) -> Result<()>,
    ) -> Result<CodeMemory> {
        if text.is_empty() {
            return Ok(CodeMemory {
                ptr: NonNull::dangling(),
                mapped: 0,
                len: 0,
            });
        }
        let mapped = text.len().next_multiple_of(page_size());
        // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            bail!(
                "mapping {mapped} bytes for code: {}",
                std::io::Error::last_os_error()
            );
        }
        let memory = CodeMemory {
            ptr: NonNull::new(ptr.cast()).expect("mmap succeeded"),
            mapped,
            len: text.len(),
        };
        // SAFETY: the mapping is `mapped >= text.len()` bytes, writable, and ours alone.
        let copy = unsafe { std::slice::from_raw_parts_mut(memory.ptr.as_ptr(), text.len()) };
        copy.copy_from_slice(text);
        relocate(copy, memory.ptr.as_ptr() as usize)?;
        flush_icache(copy);
        // SAFETY: changes the protection of our own mapping; nothing runs it yet.
        if unsafe { libc::mprotect(ptr, mapped, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            bail!(
                "making code executable: {}",
                std::io::Error::last_os_error()
            );
        }
        Ok(memory)
    }

    /// `len` bytes of `file` from `offset` (a multiple of the page size) mapped read-execute
    /// in place: pages are read from the file as code first runs. Errors where the file
    /// can't be mapped executable (a `noexec` mount, for one); the caller then copies.
    pub(crate) fn map_file(file: &File, offset: usize, len: usize) -> Result<CodeMemory> {
        if len == 0 || !offset.is_multiple_of(page_size()) {
            bail!("code at offset {offset} can't be mapped in place");
        }
        let offset_t = libc::off_t::try_from(offset)?;
        // SAFETY: a fresh private mapping of a file we hold open; no existing memory is
        // affected. Pages are read from the file when first touched, so the file must not
        // change while the code lives: `deserialize_file`'s caller promises it, as in
        // Wasmtime.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                offset_t,
            )
        };
        if ptr == libc::MAP_FAILED {
            bail!(
                "mapping code from the file: {}",
                std::io::Error::last_os_error()
            );
        }
        Ok(CodeMemory {
            ptr: NonNull::new(ptr.cast()).expect("mmap succeeded"),
            mapped: len,
            len,
        })
    }

    /// The first byte of the code.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The code.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes are mapped readable (or `len` is 0 and the pointer dangling but
        // aligned) for the life of `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        if self.mapped > 0 {
            // SAFETY: our own mapping; its owners keep this value alive while its code may
            // run.
            unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.mapped) };
        }
    }
}

/// Makes code written through data accesses visible to instruction fetch.
#[cfg(target_arch = "aarch64")]
fn flush_icache(code: &[u8]) {
    let ctr: u64;
    // SAFETY: reading the cache type register has no side effect (Linux allows it at EL0).
    unsafe { std::arch::asm!("mrs {0}, ctr_el0", out(reg) ctr) };
    let dline = 4usize << ((ctr >> 16) & 0xf);
    let iline = 4usize << (ctr & 0xf);
    let start = code.as_ptr() as usize;
    let end = start + code.len();
    for addr in (start & !(dline - 1)..end).step_by(dline) {
        // SAFETY: cleaning a data cache line of mapped memory only affects the caches.
        unsafe { std::arch::asm!("dc cvau, {0}", in(reg) addr) };
    }
    // SAFETY: a barrier only orders the maintenance around it.
    unsafe { std::arch::asm!("dsb ish") };
    for addr in (start & !(iline - 1)..end).step_by(iline) {
        // SAFETY: invalidating an instruction cache line only affects the caches.
        unsafe { std::arch::asm!("ic ivau, {0}", in(reg) addr) };
    }
    // SAFETY: barriers only order the maintenance above.
    unsafe { std::arch::asm!("dsb ish", "isb") };
}

/// x86-64 keeps instruction fetch coherent with stores.
#[cfg(not(target_arch = "aarch64"))]
fn flush_icache(_code: &[u8]) {}
