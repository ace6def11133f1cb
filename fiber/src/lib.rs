//! Stacks and fibers for wasmjit's async calls. Knows nothing of WebAssembly.
//!
//! - [`StackCreator`] / [`StackMemory`]: where stacks come from and what they are (the shape of
//!   Wasmtime's traits, so a user's allocator plugs in); [`MmapStack`] and
//!   [`DefaultStackCreator`] are the default, [`StackPool`] reuses stacks of one size.
//! - [`Fiber`]: a closure running on such a stack, suspending with [`Suspend::suspend`] and
//!   resumed with [`Fiber::resume`], values passing both ways. Built on `corosensei`.

mod fiber;
mod mmap;
mod pool;
mod stack;

pub use corosensei::trap::{CoroutineTrapHandler, TrapHandlerRegs};
pub use fiber::{Fiber, FiberResult, Suspend};
pub use mmap::{DefaultStackCreator, MmapStack};
pub use pool::{PooledStack, StackPool, StackPoolConfig};
pub use stack::{FiberStack, StackCreator, StackMemory};
