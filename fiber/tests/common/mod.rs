//! A user-style stack creator for the tests: stacks from the global allocator (not mmap), with
//! a guard page protected by hand, counting how many are alive.

#![allow(dead_code)] // each test binary uses a different part

use std::alloc::{self, Layout};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use wasmjit_fiber::{StackCreator, StackMemory};

pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// Hands out [`HeapStack`]s and counts the live ones.
#[derive(Default)]
pub struct CountingCreator {
    live: Arc<AtomicUsize>,
    created: AtomicUsize,
}

impl CountingCreator {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Stacks created and not yet dropped.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Stacks created so far.
    pub fn created(&self) -> usize {
        self.created.load(Ordering::SeqCst)
    }
}

// SAFETY: `HeapStack` satisfies `StackMemory`, has `size` usable bytes and comes zeroed.
unsafe impl StackCreator for CountingCreator {
    fn new_stack(&self, size: usize, _zeroed: bool) -> anyhow::Result<Box<dyn StackMemory>> {
        let stack = HeapStack::new(size, self.live.clone());
        self.created.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(stack))
    }
}

/// Zeroed memory from the global allocator: a guard page (made PROT_NONE) then `size` bytes.
pub struct HeapStack {
    base: *mut u8,
    layout: Layout,
    guard: usize,
    live: Arc<AtomicUsize>,
}

// SAFETY: the allocation is owned by the handle alone.
unsafe impl Send for HeapStack {}
// SAFETY: shared references only read addresses.
unsafe impl Sync for HeapStack {}

impl HeapStack {
    pub fn new(size: usize, live: Arc<AtomicUsize>) -> Self {
        let page = page_size();
        let guard = page;
        let layout = Layout::from_size_align(guard + size.next_multiple_of(page), page).unwrap();
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc::alloc_zeroed(layout) };
        assert!(!base.is_null());
        // SAFETY: the first page of our own page-aligned allocation.
        let ret = unsafe { libc::mprotect(base.cast(), guard, libc::PROT_NONE) };
        assert_eq!(ret, 0);
        live.fetch_add(1, Ordering::SeqCst);
        HeapStack {
            base,
            layout,
            guard,
            live,
        }
    }
}

impl Drop for HeapStack {
    fn drop(&mut self) {
        // SAFETY: our own guard page goes back to read-write before the allocator sees it again.
        let ret = unsafe {
            libc::mprotect(
                self.base.cast(),
                self.guard,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        assert_eq!(ret, 0);
        // SAFETY: allocated in `new` with this layout.
        unsafe { alloc::dealloc(self.base, self.layout) };
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

// SAFETY: read-write memory owned by the handle, guard page right below `range()`.
unsafe impl StackMemory for HeapStack {
    fn top(&self) -> *mut u8 {
        self.base.wrapping_add(self.layout.size())
    }

    fn range(&self) -> Range<usize> {
        self.base as usize + self.guard..self.base as usize + self.layout.size()
    }

    fn guard_range(&self) -> Range<*mut u8> {
        self.base..self.base.wrapping_add(self.guard)
    }
}

/// Counts its drops.
pub struct DropCounter(pub Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The address of a local of the calling frame: where the stack pointer is.
#[inline(never)]
pub fn stack_address() -> usize {
    let local = 0u8;
    std::hint::black_box(&local) as *const u8 as usize
}
