//! `Memory`: a linear memory owned by a store.

use crate::store::{AsContext, AsContextMut, StoreContext, Stored};
use crate::types::MemoryType;
use crate::vm::memory::VmMemory;
use anyhow::Result;
use std::fmt;

/// A linear memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory(pub(crate) Stored);

/// An access outside a memory's bounds through [`Memory::read`] or [`Memory::write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryAccessError {
    _private: (),
}

impl fmt::Display for MemoryAccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("out of bounds memory access")
    }
}

impl std::error::Error for MemoryAccessError {}

impl Memory {
    /// A new memory of `ty` in `store`.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        Memory::new_in(&mut store.as_context_mut().0.opaque, ty)
    }

    /// [`Memory::new`] on a fiber, so that an async resource limiter can be awaited.
    pub async fn new_async(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let opaque = &mut store.as_context_mut().0.opaque;
        crate::async_::on_fiber(opaque, move |s| Memory::new_in(s, ty)).await
    }

    pub(crate) fn new_in(opaque: &mut crate::store::StoreOpaque, ty: MemoryType) -> Result<Memory> {
        if ty.is_shared() {
            anyhow::bail!("shared memories must be created through `SharedMemory`");
        }
        opaque.check_counts(0, 1, 0)?;
        opaque.limit_new_memory(&ty.to_wasm())?;
        let cfg = opaque.engine.config();
        let mem = crate::host_memory::new_memory(&ty.to_wasm(), cfg)?;
        opaque.memories.push(Box::new(mem));
        Ok(Memory(Stored::new(opaque, opaque.memories.len() - 1)))
    }

    fn vm<'a>(&self, store: &'a crate::store::StoreOpaque) -> &'a VmMemory {
        &store.memories[self.0.check(store)]
    }

    /// The type it was created with (its minimum is not the current size after growing).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let store = store.as_context();
        // The type it was created with, as Wasmtime reports it: growing does not change the
        // minimum (`size` is the current one; import matching uses that).
        MemoryType::from_wasm(&self.vm(&store.0.opaque).ty)
    }

    /// The memory's bytes.
    pub fn data<'a, T: 'a>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        let store = store.into();
        self.vm(&store.0.opaque).data()
    }

    /// The memory's bytes, mutably.
    pub fn data_mut<'a, T: 'a>(
        &self,
        store: impl Into<crate::StoreContextMut<'a, T>>,
    ) -> &'a mut [u8] {
        let store = store.into();
        let index = self.0.check(&store.0.opaque);
        store.0.opaque.memories[index].data_mut()
    }

    /// The memory's bytes and the store's host data, both mutably (for host functions that
    /// read guest memory while updating their own state).
    pub fn data_and_store_mut<'a, T: 'a>(
        &self,
        store: impl Into<crate::StoreContextMut<'a, T>>,
    ) -> (&'a mut [u8], &'a mut T) {
        let store = store.into();
        let inner = store.0;
        let index = self.0.check(&inner.opaque);
        (inner.opaque.memories[index].data_mut(), &mut inner.data)
    }

    /// Base address of the memory (valid until it grows).
    pub fn data_ptr(&self, store: impl AsContext) -> *mut u8 {
        let store = store.as_context();
        self.vm(&store.0.opaque).base()
    }

    /// Size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        let store = store.as_context();
        self.vm(&store.0.opaque).byte_size()
    }

    /// Size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let store = store.as_context();
        self.vm(&store.0.opaque).pages()
    }

    /// Bytes per page (64 KiB).
    pub fn page_size(&self, store: impl AsContext) -> u64 {
        let _ = self.vm(&store.as_context().0.opaque);
        crate::vm::memory::WASM_PAGE_SIZE as u64
    }

    /// Log2 of [`Memory::page_size`].
    pub fn page_size_log2(&self, store: impl AsContext) -> u8 {
        self.page_size(store).trailing_zeros() as u8
    }

    /// Grows by `delta` pages, returning the old size in pages.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let ctx = store.as_context_mut();
        let index = self.0.check(&ctx.0.opaque);
        ctx.0.opaque.grow_memory(index, delta).map_err(|e| e.error)
    }

    /// [`Memory::grow`] on a fiber, so that an async resource limiter can be awaited.
    pub async fn grow_async(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let opaque = &mut store.as_context_mut().0.opaque;
        let index = self.0.check(opaque);
        crate::async_::on_fiber(opaque, move |s| {
            s.grow_memory(index, delta).map_err(|e| e.error)
        })
        .await
    }

    /// Copies bytes out of the memory at `offset`.
    pub fn read(
        &self,
        store: impl AsContext,
        offset: usize,
        buffer: &mut [u8],
    ) -> Result<(), MemoryAccessError> {
        let store = store.as_context();
        let data = self.vm(&store.0.opaque).data();
        let end = offset
            .checked_add(buffer.len())
            .filter(|&e| e <= data.len())
            .ok_or(MemoryAccessError { _private: () })?;
        buffer.copy_from_slice(&data[offset..end]);
        Ok(())
    }

    /// Copies bytes into the memory at `offset`.
    pub fn write(
        &self,
        mut store: impl AsContextMut,
        offset: usize,
        buffer: &[u8],
    ) -> Result<(), MemoryAccessError> {
        let ctx = store.as_context_mut();
        let index = self.0.check(&ctx.0.opaque);
        let data = ctx.0.opaque.memories[index].data_mut();
        let end = offset
            .checked_add(buffer.len())
            .filter(|&e| e <= data.len())
            .ok_or(MemoryAccessError { _private: () })?;
        data[offset..end].copy_from_slice(buffer);
        Ok(())
    }
}
