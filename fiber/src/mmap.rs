//! The default stack: an anonymous mapping with a guard page at its low end.
//!
//! ```text
//!  low addresses                                                high addresses
//!  | guard (PROT_NONE) |       usable (read-write, committed on touch)        |
//!  ^ mapping start     ^ range().start                          range().end ^ = top()
//! ```
//!
//! The mapping reserves address space only (`MAP_NORESERVE`); the kernel commits a page when the
//! fiber first touches it, so a large stack costs only what is used.

use std::io;
use std::ops::Range;
use std::ptr;

use crate::stack::{StackCreator, StackMemory};

/// Guard pages below the usable memory. Rust code probes large frames and wasm code checks an
/// explicit stack limit, so one page is enough to stop an overflow.
const GUARD_PAGES: usize = 1;

#[cfg(any(target_os = "linux", target_os = "android"))]
const MAP_FLAGS: libc::c_int =
    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const MAP_FLAGS: libc::c_int = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;

/// The system page size (4 KiB on x86_64; 4, 16 or 64 KiB on aarch64 Linux).
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|size| size.is_power_of_two())
        .expect("sysconf(_SC_PAGESIZE) returned a bad page size")
}

/// A stack in its own anonymous memory mapping, with a guard page below it; unmapped on drop.
///
/// Fresh memory reads as zeros, so every new `MmapStack` is zeroed.
pub struct MmapStack {
    /// Start of the mapping (the guard page).
    mapping: *mut u8,
    /// Length of the whole mapping, guard included.
    len: usize,
    /// Length of the guard region at the start of the mapping.
    guard_len: usize,
}

// SAFETY: the mapping is owned by this object alone; the raw pointer is an address, not a
// shared reference, so moving or sharing the handle between threads is sound.
unsafe impl Send for MmapStack {}
// SAFETY: `&MmapStack` only reads the addresses; nothing mutates through a shared reference.
unsafe impl Sync for MmapStack {}

impl MmapStack {
    /// Maps a stack with at least `size` usable bytes (rounded up to whole pages, at least one)
    /// and a guard page below them.
    pub fn new(size: usize) -> io::Result<Self> {
        let page = page_size();
        let usable = size
            .max(1)
            .checked_next_multiple_of(page)
            .ok_or_else(too_large)?;
        let guard_len = GUARD_PAGES * page;
        let len = usable.checked_add(guard_len).ok_or_else(too_large)?;

        // SAFETY: an anonymous mapping at an address of the kernel's choosing touches no
        // existing memory.
        let mapping = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                MAP_FLAGS,
                -1,
                0,
            )
        };
        if mapping == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // From here on, dropping `stack` unmaps the memory, also on the error path below.
        let stack = MmapStack {
            mapping: mapping.cast(),
            len,
            guard_len,
        };
        // SAFETY: the guard region is the first `guard_len` bytes of the mapping just created,
        // which nothing uses yet.
        if unsafe { libc::mprotect(mapping, guard_len, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }
}

fn too_large() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "stack size overflows usize")
}

impl Drop for MmapStack {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `new`, is owned by `self` and nothing runs on it
        // any more (a fiber owns its stack for as long as it may run).
        let ret = unsafe { libc::munmap(self.mapping.cast(), self.len) };
        debug_assert_eq!(ret, 0, "munmap of a fiber stack failed");
    }
}

// SAFETY: the usable range is the read-write part of a private mapping owned by `self`, the
// top is its end, and the PROT_NONE guard region lies directly below it; none of these change.
unsafe impl StackMemory for MmapStack {
    fn top(&self) -> *mut u8 {
        self.mapping.wrapping_add(self.len)
    }

    fn range(&self) -> Range<usize> {
        let start = self.mapping as usize;
        start + self.guard_len..start + self.len
    }

    fn guard_range(&self) -> Range<*mut u8> {
        self.mapping..self.mapping.wrapping_add(self.guard_len)
    }

    /// Discards the pages of the usable range: the kernel frees them and hands out zeroed pages
    /// on the next touch. Cheap, and it returns the memory of an idle stack to the system.
    fn zero(&mut self) -> anyhow::Result<()> {
        let range = self.range();
        // SAFETY: the usable range is page-aligned, part of our private anonymous read-write
        // mapping, and `&mut self` proves no fiber is running on it.
        unsafe { discard(range.start as *mut u8, range.len()) }?;
        Ok(())
    }
}

/// Replaces the pages of a private anonymous read-write region with fresh zero pages.
///
/// # Safety
///
/// `start..start + len` must be a page-aligned part of such a mapping, owned by the caller and
/// not in use: its contents are lost.
#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn discard(start: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: as the caller promises; on Linux MADV_DONTNEED makes the pages of a private
    // anonymous mapping read as zeros.
    if unsafe { libc::madvise(start.cast(), len, libc::MADV_DONTNEED) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Replaces the pages of a private anonymous read-write region with fresh zero pages.
///
/// # Safety
///
/// `start..start + len` must be a page-aligned part of such a mapping, owned by the caller and
/// not in use: its contents are lost.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
unsafe fn discard(start: *mut u8, len: usize) -> io::Result<()> {
    // Elsewhere MADV_DONTNEED may keep the contents, so map fresh pages over the region.
    // SAFETY: as the caller promises; MAP_FIXED replaces exactly that region.
    let ret = unsafe {
        libc::mmap(
            start.cast(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            MAP_FLAGS | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    if ret == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The default [`StackCreator`]: every stack is a new [`MmapStack`].
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultStackCreator;

// SAFETY: an `MmapStack` satisfies `StackMemory`, is at least `size` bytes long and, being fresh
// anonymous memory, always reads as zeros.
unsafe impl StackCreator for DefaultStackCreator {
    fn new_stack(&self, size: usize, _zeroed: bool) -> anyhow::Result<Box<dyn StackMemory>> {
        Ok(Box::new(MmapStack::new(size)?))
    }
}
