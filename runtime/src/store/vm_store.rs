//! The store as `vm/` sees it: `StoreOpaque`'s implementation of `vm::store::VMStore`, and
//! the builtin table instantiated for it.

use super::{PendingError, StoreOpaque};
use crate::async_::{block_on, AsyncCx};
use crate::tag::ExceptionData;
use crate::vm::builtins::BuiltinTable;
use crate::vm::store::{GrowError, StoreObjects, VMStore};
use crate::vm::vmcontext::ValRaw;
use std::future::Future;
use std::pin::Pin;

/// The one builtin table every `VMContext` points to.
pub(crate) static BUILTINS: BuiltinTable = BuiltinTable::for_store::<StoreOpaque>();

impl VMStore for StoreOpaque {
    fn objects(&mut self) -> StoreObjects<'_> {
        StoreObjects {
            instances: &mut self.instances,
            memories: &mut self.memories,
            tables: &mut self.tables,
            pending_trap: &mut self.pending_trap,
        }
    }

    fn set_pending_error(&mut self, error: PendingError) {
        self.pending_error = Some(error);
    }

    fn grow_memory(&mut self, index: usize, delta: u64) -> Result<u64, GrowError> {
        StoreOpaque::grow_memory(self, index, delta)
    }

    fn grow_table(&mut self, index: usize, delta: u64, init: u64) -> Result<u64, GrowError> {
        StoreOpaque::grow_table(self, index, delta, init)
    }

    fn out_of_fuel(&mut self) -> bool {
        StoreOpaque::out_of_fuel(self)
    }

    fn new_epoch(&mut self) -> bool {
        StoreOpaque::new_epoch(self)
    }

    fn epoch_deadline_check(&self) -> Option<Box<dyn Fn() -> bool + Send + Sync>> {
        if !self.engine.config().epoch_interruption {
            return None;
        }
        // SAFETY: the limits are only touched by the thread that has the store.
        let deadline = unsafe { *self.limits.epoch_deadline.get() };
        let engine = self.engine.clone();
        Some(Box::new(move || engine.current_epoch() >= deadline))
    }

    fn in_async_call(&self) -> bool {
        self.current_fiber().is_some()
    }

    fn block_on_fiber<F: Future + ?Sized>(
        &mut self,
        future: Pin<&mut F>,
    ) -> anyhow::Result<F::Output> {
        let Some(cx) = self.current_fiber() else {
            anyhow::bail!("not in an async call");
        };
        let cx: *const AsyncCx = cx;
        // SAFETY: `current_fiber` found this store's call running on the fiber owning `cx`,
        // so this runs there, inside a poll of the call's future.
        unsafe { block_on(cx, future) }
    }

    fn throw(&mut self, tag: usize, payload: &[ValRaw]) -> anyhow::Result<u64> {
        // First, while the payload is still only in the throwing frame: a collection scans
        // that frame, and may refuse a new exception.
        self.make_room_for_exception()?;
        let exn = self.new_exception(ExceptionData {
            tag,
            payload: payload.into(),
            kept: false,
            pinned: false,
        });
        // SAFETY: the limits are only touched by the thread that has the store, which runs
        // the throwing wasm.
        unsafe { *self.limits.pending_exception.get() = exn };
        Ok(exn)
    }

    fn exception_tag(&self, exn: u64) -> usize {
        StoreOpaque::exception_tag(self, exn)
    }

    fn func_subtype(&self, actual: u32, expected: u32) -> bool {
        self.engine.inner.types.is_subtype(actual, expected)
    }

    fn exception_payload(&self, exn: u64) -> &[ValRaw] {
        StoreOpaque::exception_payload(self, exn)
    }

    fn exception_caught(&mut self, exn: u64, keep: bool) {
        StoreOpaque::exception_caught(self, exn, keep)
    }
}
