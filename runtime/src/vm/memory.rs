//! Linear memories: a reservation of address space, committed as the memory grows.

use crate::vm::vmcontext::VMMemoryDefinition;
use anyhow::{bail, Context, Result};
use wasmjit_compiler::MemoryType;

/// Bytes in a wasm page.
pub const WASM_PAGE_SIZE: usize = 65536;

/// Most pages a 32-bit memory can have (4 GiB).
const MAX_PAGES_32: u64 = 1 << 16;

/// One linear memory. Boxed by the store so that its definition has a stable address.
pub(crate) struct VmMemory {
    pub(crate) def: VMMemoryDefinition,
    pub(crate) ty: MemoryType,
    mapping: region::Allocation,
    /// Bytes usable without moving (the mapping minus the guard region).
    reserved: usize,
    guard: usize,
}

// SAFETY: the memory's base pointer points into `mapping`, which this value owns; nothing
// about it is tied to the creating thread.
unsafe impl Send for VmMemory {}
// SAFETY: shared references only read the definition; mutation goes through `&mut`.
unsafe impl Sync for VmMemory {}

impl VmMemory {
    /// A new memory of `ty.minimum` pages. `reservation` and `guard` come from the config; a
    /// reservation of 4 GiB or more means the memory never moves (compiled code relies on it).
    pub(crate) fn new(ty: &MemoryType, reservation: u64, guard: u64) -> Result<Self> {
        if ty.shared {
            bail!("shared memories are not supported");
        }
        let max_pages = Self::max_pages_of(ty);
        if ty.minimum > max_pages {
            bail!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum
            );
        }
        let min_bytes = ty.minimum as usize * WASM_PAGE_SIZE;
        let reserved = if !ty.memory64 && reservation >= 1 << 32 {
            reservation as usize
        } else {
            // Dynamic memory: reserve what the minimum needs (or the configured
            // reservation if larger); growing past it moves the memory.
            min_bytes.max(reservation.min(1 << 32) as usize)
        };
        let guard = if !ty.memory64 && reservation >= 1 << 32 {
            guard as usize
        } else {
            0
        };
        let mapping = Self::map(reserved + guard, min_bytes)?;
        Ok(Self {
            def: VMMemoryDefinition {
                base: mapping.as_ptr::<u8>() as *mut u8,
                current_length: min_bytes,
            },
            ty: *ty,
            mapping,
            reserved,
            guard,
        })
    }

    fn map(total: usize, accessible: usize) -> Result<region::Allocation> {
        let total = total.max(region::page::size());
        let mapping = region::alloc(total, region::Protection::NONE)
            .context("failed to reserve address space for a linear memory")?;
        if accessible > 0 {
            // SAFETY: the range lies within the mapping just created, which nothing else uses.
            unsafe {
                region::protect(
                    mapping.as_ptr::<u8>(),
                    accessible,
                    region::Protection::READ_WRITE,
                )
            }
            .context("failed to commit linear memory")?;
        }
        Ok(mapping)
    }

    fn max_pages_of(ty: &MemoryType) -> u64 {
        let limit = if ty.memory64 { 1 << 48 } else { MAX_PAGES_32 };
        ty.maximum.unwrap_or(limit).min(limit)
    }

    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        (self.def.current_length / WASM_PAGE_SIZE) as u64
    }

    /// Current size in bytes.
    pub(crate) fn byte_size(&self) -> usize {
        self.def.current_length
    }

    /// Grows by `delta` pages; the old size in pages, or `None` when the memory cannot grow.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > Self::max_pages_of(&self.ty) {
            return None;
        }
        let new_bytes = usize::try_from(new).ok()?.checked_mul(WASM_PAGE_SIZE)?;
        let old_bytes = self.def.current_length;
        if new_bytes > self.reserved {
            // Move: a new reservation, then copy the contents.
            let reserved = new_bytes.checked_mul(2)?.min(1 << 34).max(new_bytes);
            let mapping = Self::map(reserved + self.guard, new_bytes).ok()?;
            // SAFETY: both ranges are accessible, `old_bytes` long, and do not overlap
            // (distinct mappings).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.def.base,
                    mapping.as_ptr::<u8>() as *mut u8,
                    old_bytes,
                );
            }
            self.def.base = mapping.as_ptr::<u8>() as *mut u8;
            self.mapping = mapping;
            self.reserved = reserved;
        } else if new_bytes > old_bytes {
            // SAFETY: `[old_bytes, new_bytes)` lies within the reservation owned by
            // `self.mapping`.
            let r = unsafe {
                region::protect(
                    self.def.base.add(old_bytes),
                    new_bytes - old_bytes,
                    region::Protection::READ_WRITE,
                )
            };
            r.ok()?;
        }
        self.def.current_length = new_bytes;
        Some(old)
    }

    /// The accessible bytes.
    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: `[base, base + current_length)` is mapped read-write and owned by `self`.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.current_length) }
    }

    /// The accessible bytes, mutably.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.current_length) }
    }

    /// Whether `addr` falls in this memory's reservation or guard region.
    pub(crate) fn contains_addr(&self, addr: usize) -> bool {
        let start = self.mapping.as_ptr::<u8>() as usize;
        addr >= start && addr < start + self.mapping.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            minimum: min,
            maximum: max,
            memory64: false,
            shared: false,
        }
    }

    #[test]
    fn grows_in_place_up_to_its_maximum() {
        let mut m = VmMemory::new(&ty(1, Some(3)), 1 << 32, 1 << 31).unwrap();
        let base = m.def.base;
        m.data_mut()[65535] = 7;
        assert_eq!(m.grow(2), Some(1));
        assert_eq!(m.def.base, base);
        assert_eq!(m.data()[65535], 7);
        assert_eq!(m.grow(1), None);
        assert_eq!(m.pages(), 3);
    }

    #[test]
    fn small_reservation_moves_and_keeps_contents() {
        let mut m = VmMemory::new(&ty(1, None), 65536, 0).unwrap();
        m.data_mut()[10] = 42;
        assert_eq!(m.grow(4), Some(1));
        assert_eq!(m.data()[10], 42);
        assert_eq!(m.byte_size(), 5 * WASM_PAGE_SIZE);
    }
}
