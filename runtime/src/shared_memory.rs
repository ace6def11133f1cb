//! `SharedMemory`: a linear memory of the threads proposal, owned by no store, which
//! instances of any stores on any threads may import and use at once.

use crate::engine::Engine;
use crate::types::MemoryType;
use crate::vm::memory::WASM_PAGE_SIZE;
use crate::vm::shared_memory::VmSharedMemory;
use crate::Trap;
use anyhow::{bail, Result};
use std::cell::UnsafeCell;
use std::fmt;
use std::time::Duration;

pub use crate::vm::parking_lot::WaitResult;

/// A shared linear memory. Clones refer to the same memory; it lives as long as a clone or
/// an instance using it does. It never moves: growing it (from any thread) only makes more
/// of its reservation accessible.
#[derive(Clone)]
pub struct SharedMemory {
    pub(crate) vm: VmSharedMemory,
    engine: Engine,
}

impl fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMemory")
            .field("ty", &self.ty())
            .field("data_size", &self.data_size())
            .finish_non_exhaustive()
    }
}

impl SharedMemory {
    /// A new shared memory of `ty`, which must be shared; the engine needs
    /// [`Config::shared_memory`](crate::Config::shared_memory).
    pub fn new(engine: &Engine, ty: MemoryType) -> Result<SharedMemory> {
        if !ty.is_shared() {
            bail!("shared memory must have the `shared` flag enabled on its memory type");
        }
        let vm = crate::host_memory::new_shared_memory(&ty.to_wasm(), engine.config())?;
        Ok(SharedMemory::from_vm(vm, engine))
    }

    pub(crate) fn from_vm(vm: VmSharedMemory, engine: &Engine) -> SharedMemory {
        SharedMemory {
            vm,
            engine: engine.clone(),
        }
    }

    /// The engine it was created for.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The type it was created with.
    pub fn ty(&self) -> MemoryType {
        MemoryType::from_wasm(self.vm.ty())
    }

    /// Current size in pages.
    pub fn size(&self) -> u64 {
        (self.data_size() / WASM_PAGE_SIZE) as u64
    }

    /// Bytes per page (64 KiB).
    pub fn page_size(&self) -> u64 {
        WASM_PAGE_SIZE as u64
    }

    /// Current size in bytes.
    pub fn data_size(&self) -> usize {
        self.vm.byte_size()
    }

    /// The bytes, which other threads may read and write at any time: cells, to be accessed
    /// through raw pointers or atomics only.
    pub fn data(&self) -> &[UnsafeCell<u8>] {
        // SAFETY: the accessible bytes are mapped read-write for as long as `self` keeps the
        // memory alive (it never shrinks or moves); `UnsafeCell` makes no claim that they do
        // not change under the reference.
        unsafe { std::slice::from_raw_parts(self.vm.base().cast(), self.data_size()) }
    }

    /// Grows by `delta` pages and returns the old size in pages; an error when it cannot
    /// grow that much.
    pub fn grow(&self, delta: u64) -> Result<u64> {
        match self.vm.grow(delta) {
            Some(old) => Ok(old),
            None => bail!("failed to grow memory by `{delta}`"),
        }
    }

    /// `memory.atomic.notify` from the host: wakes at most `count` threads waiting on the
    /// 4-byte word at byte `addr`, and returns how many.
    pub fn atomic_notify(&self, addr: u64, count: u32) -> Result<u32, Trap> {
        self.vm.notify(addr, count)
    }

    /// `memory.atomic.wait32` from the host: blocks while the 4-byte word at `addr` is
    /// `expected`, until notified or until `timeout` passes (`None`: forever).
    pub fn atomic_wait32(
        &self,
        addr: u64,
        expected: u32,
        timeout: Option<Duration>,
    ) -> Result<WaitResult, Trap> {
        self.vm.wait32(addr, expected, timeout)
    }

    /// `memory.atomic.wait64` from the host: as [`SharedMemory::atomic_wait32`] for the
    /// 8-byte word at `addr`.
    pub fn atomic_wait64(
        &self,
        addr: u64,
        expected: u64,
        timeout: Option<Duration>,
    ) -> Result<WaitResult, Trap> {
        self.vm.wait64(addr, expected, timeout)
    }
}
