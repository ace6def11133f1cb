//! Linear memories allocated by the embedder (`Config::with_host_memory`): a
//! [`MemoryCreator`] makes each memory of the engine's stores, a [`LinearMemory`] holds its
//! bytes. `vm::memory::VmMemory` keeps one in place of its own reservation.

use crate::config::Config;
use crate::types::MemoryType;
use crate::vm::memory::{HostBacking, VmMemory};
use crate::vm::shared_memory::VmSharedMemory;
use anyhow::{bail, Context, Result};
use std::sync::Arc;

/// A linear memory the embedder allocated (Wasmtime's `LinearMemory`).
///
/// # Safety
/// `as_ptr` must point to `byte_size` readable and writable bytes that only wasmjit uses,
/// zeroed when the memory was made and when it grew; with a reservation (see
/// [`MemoryCreator::new_memory`]) the base must never move and the guard region after the
/// reservation must stay inaccessible, as compiled code relies on both.
pub unsafe trait LinearMemory: Send + Sync + 'static {
    /// The accessible size, in bytes.
    fn byte_size(&self) -> usize;

    /// The most bytes the memory holds without moving.
    fn byte_capacity(&self) -> usize;

    /// Makes `new_size` bytes accessible (zeroed past the old size); an error fails the growth
    /// (`memory.grow` returns -1).
    fn grow_to(&mut self, new_size: usize) -> Result<()>;

    /// The first byte of the memory.
    fn as_ptr(&self) -> *mut u8;
}

/// Makes the linear memories of an engine's stores (Wasmtime's `MemoryCreator`), installed
/// with [`Config::with_host_memory`].
///
/// # Safety
/// The memories made must keep [`LinearMemory`]'s promises.
pub unsafe trait MemoryCreator: Send + Sync {
    /// A new memory of type `ty`, `minimum` bytes long and never more than `maximum` bytes.
    ///
    /// With `reserved_size_in_bytes`, compiled code does no bounds checks: the memory must
    /// reserve that many bytes of address space plus `guard_size_in_bytes` inaccessible
    /// ones after them, and never move. Without it (64-bit memories, or a
    /// `Config::memory_reservation` under 4 GiB) compiled code checks every access against
    /// the current size, the memory may move when it grows, and no guard is needed.
    fn new_memory(
        &self,
        ty: MemoryType,
        minimum: usize,
        maximum: Option<usize>,
        reserved_size_in_bytes: Option<usize>,
        guard_size_in_bytes: usize,
    ) -> Result<Box<dyn LinearMemory>, String>;
}

impl Config {
    /// Allocates every linear memory of the engine's stores with `mem_creator` instead of
    /// wasmjit's own reservations.
    pub fn with_host_memory(&mut self, mem_creator: Arc<dyn MemoryCreator>) -> &mut Self {
        self.memory_creator = Some(mem_creator);
        self
    }
}

/// A new memory of `ty` made as `config` says: by its memory creator, or as wasmjit's own
/// reservation.
pub(crate) fn new_memory(ty: &wasmjit_compiler::MemoryType, config: &Config) -> Result<VmMemory> {
    if ty.shared {
        return Ok(VmMemory::shared(new_shared_memory(ty, config)?));
    }
    let (reservation, guard) = (config.memory_reservation, config.memory_guard_size);
    match &config.memory_creator {
        Some(creator) => new_host_memory(ty, creator.as_ref(), reservation, guard),
        None => VmMemory::new(ty, reservation, guard),
    }
}

/// A new shared memory of `ty`, if the engine allows them (`Config::shared_memory`). Always
/// wasmjit's own reservation: a memory creator is not asked for one.
pub(crate) fn new_shared_memory(
    ty: &wasmjit_compiler::MemoryType,
    config: &Config,
) -> Result<VmSharedMemory> {
    if !config.shared_memory {
        bail!("shared memory support is disabled for this engine -- see `Config::shared_memory`");
    }
    VmSharedMemory::new(ty, config.memory_reservation, config.memory_guard_size)
}

/// A new memory of `ty` from the embedder's `creator`, asked for a reservation of
/// `reservation` bytes and `guard` bytes of guard when compiled code elides bounds checks
/// (a static memory, as wasmjit's own would be), for neither otherwise.
fn new_host_memory(
    ty: &wasmjit_compiler::MemoryType,
    creator: &dyn MemoryCreator,
    reservation: u64,
    guard: u64,
) -> Result<VmMemory> {
    let min_bytes = VmMemory::initial_bytes(ty)?;
    let max_bytes = ty.maximum.and_then(|m| {
        usize::try_from(m)
            .ok()?
            .checked_mul(crate::vm::memory::WASM_PAGE_SIZE)
    });
    let is_static = !ty.memory64 && reservation >= 1 << 32;
    let (reserved, guard) = if is_static {
        (reservation as usize, guard as usize)
    } else {
        (0, 0)
    };
    let memory = creator
        .new_memory(
            MemoryType::from_wasm(ty),
            min_bytes,
            max_bytes,
            is_static.then_some(reserved),
            guard,
        )
        .map_err(|e| anyhow::anyhow!(e))
        .context("the host's memory creator failed")?;
    VmMemory::from_host(ty, Box::new(HostMemory(memory)), reserved, guard)
}

/// An embedder's `LinearMemory` as `vm::memory` uses it.
struct HostMemory(Box<dyn LinearMemory>);

impl HostBacking for HostMemory {
    fn byte_size(&self) -> usize {
        self.0.byte_size()
    }

    fn byte_capacity(&self) -> usize {
        self.0.byte_capacity()
    }

    fn grow_to(&mut self, new_size: usize) -> Result<()> {
        self.0.grow_to(new_size)
    }

    fn as_ptr(&self) -> *mut u8 {
        self.0.as_ptr()
    }
}
