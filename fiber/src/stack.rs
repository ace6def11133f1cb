//! What a fiber stack is: memory handed out by a [`StackCreator`] and described by
//! [`StackMemory`], and the [`FiberStack`] a [`Fiber`](crate::Fiber) takes ownership of.
//!
//! The two traits have the shape and meaning of Wasmtime's traits of the same names, so that a
//! user's allocator (and later the C API's `wasmtime_stack_creator_t`) plugs in unchanged: the
//! memory is used as is, from its [`top`](StackMemory::top) down to the start of its
//! [`range`](StackMemory::range).

use std::ops::Range;

use crate::pool::PooledStack;

/// Allocates stacks for fibers.
///
/// # Safety
///
/// Every stack returned by [`new_stack`](Self::new_stack) must satisfy the contract of
/// [`StackMemory`], be at least `size` bytes long (excluding guard pages) and, when `zeroed` is
/// true, read as zeros throughout its usable range.
pub unsafe trait StackCreator: Send + Sync {
    /// Returns a new stack of at least `size` usable bytes (guard pages not included).
    ///
    /// When `zeroed` is true the usable memory must be zero-initialized, so that no data from a
    /// previous user of the memory is visible to the code that will run on it.
    fn new_stack(&self, size: usize, zeroed: bool) -> anyhow::Result<Box<dyn StackMemory>>;
}

/// A block of memory that a fiber can use as its stack; stacks grow downwards.
///
/// # Safety
///
/// Implementors promise, for as long as the object is alive:
/// - [`range`](Self::range) is readable and writable memory owned exclusively by this object
///   (nothing else reads or writes it), and [`top`](Self::top) lies in
///   `range().start + 1 ..= range().end`;
/// - the memory just below `range().start` is a guard region that faults on access (reported by
///   [`guard_range`](Self::guard_range)), so that a stack overflow cannot silently write over
///   other memory;
/// - the values returned by the three methods never change.
pub unsafe trait StackMemory: Send + Sync {
    /// The top of the stack: the highest address, exclusive. The first frame is pushed below it.
    fn top(&self) -> *mut u8;

    /// The usable stack memory as addresses, guard pages excluded.
    fn range(&self) -> Range<usize>;

    /// The guard region below the usable memory, or an empty range if the creator does not
    /// report one.
    fn guard_range(&self) -> Range<*mut u8>;

    /// Makes the whole usable range read as zeros again, before the stack is handed to new code.
    ///
    /// Called only while no fiber runs on the stack. The provided implementation writes zeros over
    /// [`range`](Self::range), which touches (commits) every page; stacks backed by anonymous
    /// mappings override it with a cheaper way to discard their pages.
    fn zero(&mut self) -> anyhow::Result<()> {
        let range = self.range();
        // SAFETY: by the trait's contract `range` is writable memory owned by `self`, and `&mut
        // self` proves nothing else (such as a fiber running on it) is using it now.
        unsafe { std::ptr::write_bytes(range.start as *mut u8, 0, range.len()) };
        Ok(())
    }
}

/// The stack a [`Fiber`](crate::Fiber) runs on, owned by the fiber until it finishes.
///
/// Either a stack of its own, freed when the fiber is done with it, or one taken from a
/// [`StackPool`](crate::StackPool), which goes back to the pool.
pub enum FiberStack {
    /// A stack owned outright, e.g. from a [`StackCreator`].
    Owned(Box<dyn StackMemory>),
    /// A stack on loan from a pool.
    Pooled(PooledStack),
}

impl FiberStack {
    fn memory(&self) -> &dyn StackMemory {
        match self {
            FiberStack::Owned(memory) => &**memory,
            FiberStack::Pooled(pooled) => pooled,
        }
    }

    /// The top of the stack; see [`StackMemory::top`].
    pub fn top(&self) -> *mut u8 {
        self.memory().top()
    }

    /// The usable stack memory; see [`StackMemory::range`].
    pub fn range(&self) -> Range<usize> {
        self.memory().range()
    }

    /// The guard region; see [`StackMemory::guard_range`].
    pub fn guard_range(&self) -> Range<*mut u8> {
        self.memory().guard_range()
    }
}

impl From<Box<dyn StackMemory>> for FiberStack {
    fn from(memory: Box<dyn StackMemory>) -> Self {
        FiberStack::Owned(memory)
    }
}

impl From<PooledStack> for FiberStack {
    fn from(pooled: PooledStack) -> Self {
        FiberStack::Pooled(pooled)
    }
}
