//! Resource limits: an embedder-supplied [`ResourceLimiter`] decides whether memories and
//! tables may grow, and caps how many instances, memories and tables a store holds, and how
//! many exceptions wasm may keep alive.

use crate::store::{Store, StoreInner, StoreOpaque};
pub(crate) use crate::vm::store::GrowError;
use anyhow::{bail, Result};

/// Default cap on instances, memories and tables per store when a limiter does not say.
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// See [`DEFAULT_INSTANCE_LIMIT`].
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// See [`DEFAULT_INSTANCE_LIMIT`].
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;
/// Default cap on the exceptions a store keeps alive at once when a limiter does not say
/// (see [`ResourceLimiter::exceptions`]).
pub const DEFAULT_EXCEPTION_LIMIT: usize = 1_000_000;

/// Decides on growth of a store's memories and tables; installed with [`Store::limiter`].
///
/// Sizes are in bytes for memories and in elements for tables. `desired` on creation is the
/// initial size (with `current` 0).
pub trait ResourceLimiter {
    /// Whether a memory may grow from `current` to `desired` bytes (`maximum` is its declared
    /// maximum). An error fails the growth (from wasm: `memory.grow` returns -1).
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// Told when a memory could not grow; an error replaces the failure's.
    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// Whether a table may grow from `current` to `desired` elements.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// Told when a table could not grow.
    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// Most instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// Most tables the store may hold.
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// Most memories the store may hold.
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }

    /// Most exceptions the store may keep alive at once (thrown and still reachable, or not
    /// yet found unreachable); a `throw` past it traps. Not in Wasmtime, whose exceptions
    /// live in its GC heap, bounded by the heap's size.
    fn exceptions(&self) -> usize {
        DEFAULT_EXCEPTION_LIMIT
    }
}

/// A [`ResourceLimiter`] whose growth decisions are futures, installed with
/// [`Store::limiter_async`]: a memory or table growth (from wasm or from the host's `*_async`
/// calls) awaits them on the fiber of the async call it happens in, so the call's future is
/// pending while they are. Implement it with `#[async_trait::async_trait]`, as Wasmtime's.
#[async_trait::async_trait]
pub trait ResourceLimiterAsync: Send {
    /// As [`ResourceLimiter::memory_growing`], awaited.
    async fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// As [`ResourceLimiter::memory_grow_failed`].
    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// As [`ResourceLimiter::table_growing`], awaited.
    async fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// As [`ResourceLimiter::table_grow_failed`].
    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// Most instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// Most tables the store may hold.
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// Most memories the store may hold.
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// A ready-made [`ResourceLimiter`] with fixed caps; build one with [`StoreLimitsBuilder`].
#[derive(Debug, Clone)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    exceptions: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            exceptions: DEFAULT_EXCEPTION_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = self.memory_size.is_none_or(|limit| desired <= limit)
            && maximum.is_none_or(|max| desired <= max);
        if !allow && self.trap_on_grow_failure {
            bail!("forcing trap when growing memory to {desired} bytes")
        }
        Ok(allow)
    }

    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            Err(error.context("forcing a memory growth failure to be a trap"))
        } else {
            Ok(())
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = self.table_elements.is_none_or(|limit| desired <= limit)
            && maximum.is_none_or(|max| desired <= max);
        if !allow && self.trap_on_grow_failure {
            bail!("forcing trap when growing table to {desired} elements")
        }
        Ok(allow)
    }

    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            Err(error.context("forcing a table growth failure to be a trap"))
        } else {
            Ok(())
        }
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }

    fn exceptions(&self) -> usize {
        self.exceptions
    }
}

/// Builds a [`StoreLimits`]; every limit not set is unlimited (counts: the defaults).
#[derive(Debug, Clone, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// A builder with no limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Most bytes any one memory may hold.
    pub fn memory_size(mut self, limit: usize) -> Self {
        self.0.memory_size = Some(limit);
        self
    }

    /// Most elements any one table may hold.
    pub fn table_elements(mut self, limit: usize) -> Self {
        self.0.table_elements = Some(limit);
        self
    }

    /// Most instances in the store.
    pub fn instances(mut self, limit: usize) -> Self {
        self.0.instances = limit;
        self
    }

    /// Most tables in the store.
    pub fn tables(mut self, limit: usize) -> Self {
        self.0.tables = limit;
        self
    }

    /// Most memories in the store.
    pub fn memories(mut self, limit: usize) -> Self {
        self.0.memories = limit;
        self
    }

    /// Most exceptions the store keeps alive at once (see [`ResourceLimiter::exceptions`]).
    pub fn exceptions(mut self, limit: usize) -> Self {
        self.0.exceptions = limit;
        self
    }

    /// Whether a refused growth is an error instead of a failed growth. From the host
    /// (`Memory::grow`, `Table::grow`) both are errors; `memory.grow`/`table.grow` in wasm
    /// return -1 either way here (Wasmtime traps).
    pub fn trap_on_grow_failure(mut self, trap: bool) -> Self {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

/// An erased limiter accessor: given the store's own `StoreOpaque`, runs the callback with the
/// limiter inside the store's data.
pub(crate) type LimiterAccessor =
    Box<dyn FnMut(*mut StoreOpaque, &mut dyn FnMut(&mut dyn ResourceLimiter)) + Send + Sync>;

impl<T: 'static> Store<T> {
    /// Installs a resource limiter: `limiter` picks it out of the store's data. It is asked
    /// before every memory or table is created or grown, and when instances, memories or
    /// tables are created.
    pub fn limiter(
        &mut self,
        mut limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        let erased: LimiterAccessor = Box::new(
            move |store: *mut StoreOpaque, f: &mut dyn FnMut(&mut dyn ResourceLimiter)| {
                // SAFETY: the accessor is only called by `with_limiter` with this store's own
                // `StoreOpaque`, the first field of the `repr(C)` `StoreInner<T>`, and `f`
                // gets no access to the store: only the data field is borrowed here.
                let data = unsafe { &mut (*(store as *mut StoreInner<T>)).data };
                f(limiter(data))
            },
        );
        self.inner.opaque.set_limiter(erased, false);
    }
}

/// The kind of a resource, for the limiter's questions.
#[derive(Clone, Copy)]
pub(crate) enum Resource {
    Memory,
    Table,
}

/// The store's resource limiter (its room of `StoreOpaque`).
#[derive(Default)]
pub(crate) struct LimiterSlot {
    /// Picks the limiter out of the store's data (see `Store::limiter`).
    accessor: Option<LimiterAccessor>,
    /// The limiter is a `ResourceLimiterAsync`: only calls on a fiber may use the store.
    is_async: bool,
}

impl LimiterSlot {
    /// Whether the store has a limiter.
    pub(crate) fn is_set(&self) -> bool {
        self.accessor.is_some()
    }

    /// Whether the limiter is async (then only calls on a fiber may use the store).
    pub(crate) fn is_async(&self) -> bool {
        self.is_async
    }
}

impl StoreOpaque {
    /// Installs the limiter `accessor` picks out of the store's data.
    pub(crate) fn set_limiter(&mut self, accessor: LimiterAccessor, is_async: bool) {
        self.limiter = LimiterSlot {
            accessor: Some(accessor),
            is_async,
        };
        // The next `throw` asks the new limiter for its count of exceptions.
        self.exceptions.recheck_limit();
    }

    /// Runs `f` with the store's limiter, if it has one.
    fn with_limiter<R>(&mut self, f: impl FnOnce(&mut dyn ResourceLimiter) -> R) -> Option<R> {
        let mut accessor = self.limiter.accessor.take()?;
        let mut f = Some(f);
        let mut out = None;
        let store = self as *mut StoreOpaque;
        // Caught so that the accessor goes back into the store even when the limiter panics.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            accessor(store, &mut |limiter| {
                if let Some(f) = f.take() {
                    out = Some(f(limiter));
                }
            })
        }));
        self.limiter.accessor = Some(accessor);
        if let Err(payload) = ran {
            std::panic::resume_unwind(payload);
        }
        out
    }

    /// Asks the limiter whether a memory or table may grow from `current` to `desired`
    /// (bytes or elements). `Ok(false)` refuses; an error is the limiter's.
    pub(crate) fn limit_growth(
        &mut self,
        kind: Resource,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        self.with_limiter(|l| match kind {
            Resource::Memory => l.memory_growing(current, desired, maximum),
            Resource::Table => l.table_growing(current, desired, maximum),
        })
        .unwrap_or(Ok(true))
    }

    /// Tells the limiter a growth failed; returns the error to report, a trap in wasm when
    /// the limiter returned it.
    pub(crate) fn growth_failed(&mut self, kind: Resource, error: anyhow::Error) -> GrowError {
        let msg = error.to_string();
        match self.with_limiter(|l| match kind {
            Resource::Memory => l.memory_grow_failed(error),
            Resource::Table => l.table_grow_failed(error),
        }) {
            Some(Err(error)) => GrowError { error, trap: true },
            _ => GrowError {
                error: anyhow::anyhow!(msg),
                trap: false,
            },
        }
    }

    /// Most exceptions the store may keep alive at once: the limiter's count, or the default.
    pub(crate) fn exception_limit(&mut self) -> usize {
        self.with_limiter(|l| l.exceptions())
            .unwrap_or(DEFAULT_EXCEPTION_LIMIT)
    }

    /// Checks that `new_instances`, `new_memories` and `new_tables` more objects fit the
    /// limiter's counts.
    pub(crate) fn check_counts(
        &mut self,
        new_instances: usize,
        new_memories: usize,
        new_tables: usize,
    ) -> Result<()> {
        let (instances, memories, tables) = (
            self.instances.len() + new_instances,
            self.memories.len() + new_memories,
            self.tables.len() + new_tables,
        );
        let limits = self.with_limiter(|l| (l.instances(), l.memories(), l.tables()));
        let Some((max_instances, max_memories, max_tables)) = limits else {
            return Ok(());
        };
        if instances > max_instances {
            bail!("resource limit exceeded: instance count too high at {instances}");
        }
        if memories > max_memories {
            bail!("resource limit exceeded: memory count too high at {memories}");
        }
        if tables > max_tables {
            bail!("resource limit exceeded: table count too high at {tables}");
        }
        Ok(())
    }
}

fn bytes_of_pages(pages: u64) -> Option<usize> {
    usize::try_from(pages)
        .ok()?
        .checked_mul(crate::vm::memory::WASM_PAGE_SIZE)
}

impl StoreOpaque {
    /// Asks the limiter about a new memory of `ty` (from 0 to its minimum).
    pub(crate) fn limit_new_memory(&mut self, ty: &wasmjit_compiler::MemoryType) -> Result<()> {
        let desired = bytes_of_pages(ty.minimum).unwrap_or(usize::MAX);
        let maximum = ty.maximum.and_then(bytes_of_pages);
        if !self.limit_growth(Resource::Memory, 0, desired, maximum)? {
            bail!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum
            );
        }
        Ok(())
    }

    /// Asks the limiter about a new table of `ty`.
    pub(crate) fn limit_new_table(&mut self, ty: &wasmjit_compiler::TableType) -> Result<()> {
        let desired = usize::try_from(ty.minimum).unwrap_or(usize::MAX);
        let maximum = ty.maximum.and_then(|m| usize::try_from(m).ok());
        if !self.limit_growth(Resource::Table, 0, desired, maximum)? {
            bail!(
                "table minimum size of {} elements exceeds table limits",
                ty.minimum
            );
        }
        Ok(())
    }

    /// Grows memory `index` of the store by `delta` pages, asking the limiter first; the old
    /// size in pages.
    pub(crate) fn grow_memory(&mut self, index: usize, delta: u64) -> Result<u64, GrowError> {
        let mem = &self.memories[index];
        let current = mem.byte_size();
        let maximum = mem.ty.maximum.and_then(bytes_of_pages);
        let desired = mem
            .pages()
            .checked_add(delta)
            .and_then(bytes_of_pages)
            .unwrap_or(usize::MAX);
        let allowed = if self.limiter.is_set() && delta > 0 {
            self.limit_growth(Resource::Memory, current, desired, maximum)
        } else {
            Ok(true)
        };
        let failure = match allowed {
            Ok(true) => match self.memories[index].grow(delta) {
                Some(old) => return Ok(old),
                None => anyhow::anyhow!("failed to grow memory by `{delta}`"),
            },
            Ok(false) => anyhow::anyhow!("failed to grow memory by `{delta}`"),
            Err(error) => return Err(GrowError { error, trap: true }),
        };
        Err(self.growth_failed(Resource::Memory, failure))
    }

    /// Grows table `index` of the store by `delta` elements of `init`, asking the limiter
    /// first; the old size.
    pub(crate) fn grow_table(
        &mut self,
        index: usize,
        delta: u64,
        init: u64,
    ) -> Result<u64, GrowError> {
        let table = &self.tables[index];
        let current = usize::try_from(table.size()).unwrap_or(usize::MAX);
        let maximum = table.ty.maximum.and_then(|m| usize::try_from(m).ok());
        let desired = table
            .size()
            .checked_add(delta)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX);
        let allowed = if self.limiter.is_set() && delta > 0 {
            self.limit_growth(Resource::Table, current, desired, maximum)
        } else {
            Ok(true)
        };
        let failure = match allowed {
            Ok(true) => match self.tables[index].grow(delta, init) {
                Some(old) => return Ok(old),
                None => anyhow::anyhow!("failed to grow table by `{delta}`"),
            },
            Ok(false) => anyhow::anyhow!("failed to grow table by `{delta}`"),
            Err(error) => return Err(GrowError { error, trap: true }),
        };
        Err(self.growth_failed(Resource::Table, failure))
    }
}
