//! `Store::limiter_async`: a `ResourceLimiterAsync` installed behind the store's ordinary
//! limiter accessor, its futures awaited on the fiber of the call that grows a memory or
//! table (as async host functions' futures are, see [`block_on`]).

use super::{block_on, AsyncCx};
use crate::limits::{LimiterAccessor, ResourceLimiter, ResourceLimiterAsync};
use crate::store::{Store, StoreInner, StoreOpaque};
use anyhow::{anyhow, Result};

/// Wasmtime's words for a growth outside an async call with an async limiter installed.
const SYNC_GROWTH: &str =
    "when using an async resource limiter `*_async` functions must be used instead";

/// An async limiter seen as a sync one by the store's limiter code: each decision is the
/// limiter's future, polled to completion on `fiber`.
struct AwaitOnFiber<'a> {
    limiter: &'a mut dyn ResourceLimiterAsync,
    /// The fiber of the running async call, when the growth runs on it.
    fiber: Option<*const AsyncCx>,
}

impl AwaitOnFiber<'_> {
    fn fiber(&self) -> Result<*const AsyncCx> {
        self.fiber.ok_or_else(|| anyhow!(SYNC_GROWTH))
    }
}

impl ResourceLimiter for AwaitOnFiber<'_> {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let fiber = self.fiber()?;
        let mut decision = self.limiter.memory_growing(current, desired, maximum);
        // SAFETY: `fiber` is the store's current fiber, and this code runs on it
        // (`StoreOpaque::current_fiber` checked the stack), inside a poll of its future.
        unsafe { block_on(fiber, decision.as_mut()) }?
    }

    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        self.limiter.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let fiber = self.fiber()?;
        let mut decision = self.limiter.table_growing(current, desired, maximum);
        // SAFETY: as in `memory_growing`.
        unsafe { block_on(fiber, decision.as_mut()) }?
    }

    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        self.limiter.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limiter.instances()
    }

    fn tables(&self) -> usize {
        self.limiter.tables()
    }

    fn memories(&self) -> usize {
        self.limiter.memories()
    }
}

impl<T: 'static> Store<T> {
    /// Installs an async resource limiter: `limiter` picks it out of the store's data. Its
    /// growth decisions are awaited inside async calls (`call_async`, `instantiate_async`,
    /// `Memory::grow_async`, ...); from then on the store's sync entry points fail, and a
    /// growth outside an async call is an error.
    pub fn limiter_async(
        &mut self,
        mut limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiterAsync) + Send + Sync + 'static,
    ) {
        let erased: LimiterAccessor = Box::new(
            move |store: *mut StoreOpaque, f: &mut dyn FnMut(&mut dyn ResourceLimiter)| {
                // SAFETY: called by `with_limiter` with this store's own `StoreOpaque`; the
                // shared borrow ends before the data field is borrowed below.
                let fiber = unsafe { (*store).current_fiber() }.map(|cx| cx as *const AsyncCx);
                // SAFETY: as in `Store::limiter`: `StoreOpaque` is the first field of the
                // `repr(C)` `StoreInner<T>`, and only the data field is borrowed here.
                let data = unsafe { &mut (*(store as *mut StoreInner<T>)).data };
                f(&mut AwaitOnFiber {
                    limiter: limiter(data),
                    fiber,
                })
            },
        );
        self.inner.opaque.set_limiter(erased, true);
    }
}
