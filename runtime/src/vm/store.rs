//! What `vm/` needs of the store that owns its objects: the one interface between the
//! machinery below the API and the API's `StoreOpaque`, which implements it.
//!
//! Code in `vm/` never names the API's store type. The builtins are generic over
//! [`VMStore`] and instantiated once for the store type (`store::BUILTINS`); the
//! `VMContext::STORE` word of every instance points to that store.

use crate::vm::instance::InstanceData;
use crate::vm::memory::VmMemory;
use crate::vm::table::VmTable;
use crate::vm::vmcontext::ValRaw;
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use wasmjit_environ::trap::Trap;

/// What a host function or a builtin left behind when it failed, to be raised once its frame
/// is gone.
pub(crate) enum PendingError {
    /// Returned an error.
    Error(anyhow::Error),
    /// Panicked.
    Panic(Box<dyn Any + Send>),
}

/// Why a memory or table did not grow. From the host side both kinds are errors; in wasm
/// (`memory.grow`, `table.grow`) a refusal is -1 and a limiter's error is a trap, as in
/// Wasmtime.
pub(crate) struct GrowError {
    pub(crate) error: anyhow::Error,
    /// The limiter returned the error (from `*_growing` or `*_grow_failed`).
    pub(crate) trap: bool,
}

/// The objects of a store that the builtins work on, borrowed together (a builtin reads an
/// instance's indices and touches the memories or tables they name).
pub(crate) struct StoreObjects<'a> {
    pub(crate) instances: &'a mut [Box<InstanceData>],
    pub(crate) memories: &'a mut [Box<VmMemory>],
    pub(crate) tables: &'a mut [Box<VmTable>],
    /// Where a builtin records the trap it returns with (see `vm::builtins`).
    pub(crate) pending_trap: &'a mut Option<Trap>,
}

/// The store as the builtins see it. Every decision that belongs to the embedder (resource
/// limits, fuel and epoch policy, exceptions as values) is behind a method.
pub(crate) trait VMStore {
    /// The store's instances, memories and tables.
    fn objects(&mut self) -> StoreObjects<'_>;

    /// Records what the current builtin failed with, to be raised by the call that entered
    /// wasm once the wasm frames are gone.
    fn set_pending_error(&mut self, error: PendingError);

    /// Grows store memory `index` by `delta` pages, asking the resource limiter; the old size
    /// in pages.
    fn grow_memory(&mut self, index: usize, delta: u64) -> Result<u64, GrowError>;

    /// Grows store table `index` by `delta` elements set to `init`; the old size.
    fn grow_table(&mut self, index: usize, delta: u64, init: u64) -> Result<u64, GrowError>;

    /// Compiled code ran out of the fuel it was given: refuel, yield, or fail. True to go on.
    fn out_of_fuel(&mut self) -> bool;

    /// The epoch deadline passed: run the store's deadline behaviour. True to go on.
    fn new_epoch(&mut self) -> bool;

    /// With epoch interruption on, whether the engine's epoch has reached the store's
    /// current deadline, as a check another wait may repeat; `None` with it off.
    fn epoch_deadline_check(&self) -> Option<Box<dyn Fn() -> bool + Send + Sync>>;

    /// Whether the running call is an async one, on its fiber.
    fn in_async_call(&self) -> bool;

    /// Polls `future` to completion on the running async call's fiber, suspending the call
    /// while it is pending; an error when the call was cancelled (its future dropped), or is
    /// not async.
    fn block_on_fiber<F: Future + ?Sized>(
        &mut self,
        future: Pin<&mut F>,
    ) -> anyhow::Result<F::Output>;

    /// Makes an exception of store tag `tag` carrying `payload` and makes it the pending one;
    /// its exnref, or an error when the store may not hold another. `payload` is still in the
    /// throwing frame, where a collection this may run sees the references it holds.
    fn throw(&mut self, tag: usize, payload: &[ValRaw]) -> anyhow::Result<u64>;

    /// The store tag of exception `exn`.
    fn exception_tag(&self, exn: u64) -> usize;

    /// The payload of exception `exn`.
    fn exception_payload(&self, exn: u64) -> &[ValRaw];

    /// A `catch` clause caught exception `exn`; `keep` when it keeps the exnref.
    fn exception_caught(&mut self, exn: u64, keep: bool);

    /// Whether function type `actual` is `expected` or a subtype of it (engine-wide ids).
    fn func_subtype(&self, actual: u32, expected: u32) -> bool;
}
