//! Shared linear memories: one memory used by instances of several stores, on any threads.
//!
//! A shared memory reserves its maximum size (and the engine's guard) up front, so it never
//! moves: compiled code may keep its base, and growing only makes more of the reservation
//! accessible and then raises the length. The length in its definition is only written
//! atomically (under the growth lock) and read atomically by the runtime; compiled code
//! reads it with plain aligned loads, which see either the old or the new length (the
//! threads proposal lets an access racing with a `memory.grow` succeed or trap).

use crate::vm::memory::{map_reservation, max_pages_of, WASM_PAGE_SIZE};
use crate::vm::parking_lot::{Parked, ParkingLot, WaitLimits, WaitResult};
use crate::vm::vmcontext::VMMemoryDefinition;
use crate::Trap;
use anyhow::{bail, Context, Result};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmjit_compiler::MemoryType;

/// A shared memory; clones refer to the same one.
#[derive(Clone)]
pub(crate) struct VmSharedMemory(Arc<Inner>);

/// A `VMMemoryDefinition` whose length is atomic (same layout, checked below).
#[repr(C)]
struct SharedDefinition {
    base: *mut u8,
    current_length: AtomicUsize,
}

const _: () = {
    assert!(std::mem::size_of::<SharedDefinition>() == std::mem::size_of::<VMMemoryDefinition>());
    assert!(
        std::mem::offset_of!(SharedDefinition, current_length)
            == std::mem::offset_of!(VMMemoryDefinition, current_length)
    );
};

struct Inner {
    /// What compiled code reads through its `VMContext` (boxed inside the `Arc`: its address
    /// is stable for the memory's life).
    def: SharedDefinition,
    ty: MemoryType,
    /// The whole reservation (maximum size plus guard); unmapped when the last user drops.
    mapping: region::Allocation,
    /// Held while growing, so that two growths do not both protect and publish.
    grow_lock: Mutex<()>,
    waiters: ParkingLot,
}

// SAFETY: the base pointer points into `mapping`, which `Inner` owns and never moves; the
// bytes are accessed by wasm on any thread by design (the threads proposal), the length only
// atomically, and everything else is immutable or behind a mutex.
unsafe impl Send for Inner {}
// SAFETY: as above: shared references only read immutable fields, the atomic length, or
// take the mutexes.
unsafe impl Sync for Inner {}

impl VmSharedMemory {
    /// A new shared memory of `ty` (which must be shared and have a maximum) for an engine
    /// whose memories have `reservation` bytes of address space and `guard` bytes of guard
    /// (`Config::memory_reservation`, `memory_guard_size`). Whether the engine allows shared
    /// memories at all is the caller's check (`host_memory::check_shared_memory_allowed`).
    pub(crate) fn new(ty: &MemoryType, reservation: u64, guard: u64) -> Result<Self> {
        if !ty.shared {
            bail!("shared memory must have a `shared` memory type");
        }
        let Some(maximum) = ty.maximum else {
            bail!("shared memories must have a maximum size");
        };
        let max_pages = max_pages_of(ty);
        if ty.minimum > max_pages {
            bail!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum
            );
        }
        let max_bytes = usize::try_from(maximum.min(max_pages))
            .ok()
            .and_then(|p| p.checked_mul(WASM_PAGE_SIZE))
            .context("the maximum size of the shared memory does not fit the address space")?;
        let min_bytes = ty.minimum as usize * WASM_PAGE_SIZE;
        // Where compiled code elides bounds checks (a 32-bit memory with a reservation of
        // 4 GiB or more), it counts on the reservation and guard the engine's memories have.
        let elides_checks = !ty.memory64 && reservation >= 1 << 32;
        let (reserved, guard) = if elides_checks {
            let reservation = usize::try_from(reservation)?;
            (reservation.max(max_bytes), guard as usize)
        } else {
            (max_bytes, 0)
        };
        let total = reserved
            .checked_add(guard)
            .context("the reservation of the shared memory overflows")?;
        let mapping = map_reservation(total, min_bytes)?;
        Ok(Self(Arc::new(Inner {
            def: SharedDefinition {
                base: mapping.as_ptr::<u8>() as *mut u8,
                current_length: AtomicUsize::new(min_bytes),
            },
            ty: *ty,
            mapping,
            grow_lock: Mutex::new(()),
            waiters: ParkingLot::default(),
        })))
    }

    /// Whether both refer to the same memory.
    pub(crate) fn same(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// Its type, as created.
    pub(crate) fn ty(&self) -> &MemoryType {
        &self.0.ty
    }

    /// The definition compiled code reads, valid as long as any clone lives.
    pub(crate) fn definition_ptr(&self) -> *const VMMemoryDefinition {
        (&self.0.def as *const SharedDefinition).cast()
    }

    /// The first byte; never changes.
    pub(crate) fn base(&self) -> *mut u8 {
        self.0.def.base
    }

    /// Current size in bytes.
    pub(crate) fn byte_size(&self) -> usize {
        self.0.def.current_length.load(Ordering::SeqCst)
    }

    /// Whether `addr` falls in the reservation or its guard.
    pub(crate) fn contains_addr(&self, addr: usize) -> bool {
        let start = self.0.mapping.as_ptr::<u8>() as usize;
        addr >= start && addr - start < self.0.mapping.len()
    }

    /// Grows by `delta` pages; the old size in pages, or `None` when it cannot grow.
    pub(crate) fn grow(&self, delta: u64) -> Option<u64> {
        let _growing = self.0.grow_lock.lock().unwrap_or_else(|e| e.into_inner());
        let old_bytes = self.byte_size();
        let old = (old_bytes / WASM_PAGE_SIZE) as u64;
        let new = old.checked_add(delta)?;
        if new > max_pages_of(&self.0.ty) {
            return None;
        }
        let new_bytes = usize::try_from(new).ok()?.checked_mul(WASM_PAGE_SIZE)?;
        if new_bytes > old_bytes {
            // SAFETY: `[old_bytes, new_bytes)` lies within the reservation (the maximum was
            // reserved), and only this growth, holding the lock, changes its protection.
            unsafe {
                region::protect(
                    self.base().add(old_bytes),
                    new_bytes - old_bytes,
                    region::Protection::READ_WRITE,
                )
            }
            .ok()?;
        }
        self.0.def.current_length.store(new_bytes, Ordering::SeqCst);
        Some(old)
    }

    /// The address of an aligned `size`-byte word at byte `addr`, checked as Wasmtime checks
    /// the operand of wait/notify: alignment first, then bounds.
    fn word(&self, addr: u64, size: u64) -> Result<*mut u8, Trap> {
        check_atomic_addr(addr, size, self.byte_size())?;
        // SAFETY: in bounds of the accessible bytes (checked), which lie in the mapping.
        Ok(unsafe { self.base().add(addr as usize) })
    }

    /// `memory.atomic.notify`: wakes at most `count` waiters of `addr`.
    pub(crate) fn notify(&self, addr: u64, count: u32) -> Result<u32, Trap> {
        let word = self.word(addr, 4)?;
        Ok(self.0.waiters.notify(word as usize, count))
    }

    /// `memory.atomic.wait32` from the host.
    pub(crate) fn wait32(
        &self,
        addr: u64,
        expected: u32,
        timeout: Option<Duration>,
    ) -> Result<WaitResult, Trap> {
        let word = self.word(addr, 4)?;
        Ok(self.0.waiters.wait(
            word as usize,
            still_expected(word, expected.into(), 4),
            timeout,
        ))
    }

    /// `memory.atomic.wait64` from the host.
    pub(crate) fn wait64(
        &self,
        addr: u64,
        expected: u64,
        timeout: Option<Duration>,
    ) -> Result<WaitResult, Trap> {
        let word = self.word(addr, 8)?;
        Ok(self
            .0
            .waiters
            .wait(word as usize, still_expected(word, expected, 8), timeout))
    }

    /// `memory.atomic.wait32/64` (`width` 4 or 8) of a store's wasm, blocking the thread.
    pub(crate) fn park(
        &self,
        addr: u64,
        expected: u64,
        width: u64,
        limits: WaitLimits<'_>,
    ) -> Result<Parked, Trap> {
        let word = self.word(addr, width)?;
        let expected = still_expected(word, expected, width);
        Ok(self.0.waiters.park(word as usize, expected, limits))
    }

    /// [`VmSharedMemory::park`] for an async call: the future that parks its task.
    pub(crate) fn park_async<'a>(
        &'a self,
        addr: u64,
        expected: u64,
        width: u64,
        limits: WaitLimits<'a>,
    ) -> Result<impl std::future::Future<Output = Parked> + 'a, Trap> {
        let word = self.word(addr, width)?;
        let expected = still_expected(word, expected, width);
        Ok(self.0.waiters.park_async(word as usize, expected, limits))
    }
}

/// Whether the `width`-byte word at `word` (4 or 8, aligned, inside a live shared memory)
/// still holds `expected` (truncated to the width).
fn still_expected(word: *mut u8, expected: u64, width: u64) -> impl FnOnce() -> bool + Unpin {
    move || {
        // SAFETY: the word is aligned and accessible for the memory's life (it never shrinks
        // or moves), and every access to it from wasm or the host is atomic or a race the
        // threads proposal allows.
        unsafe {
            if width == 4 {
                AtomicU32::from_ptr(word.cast()).load(Ordering::SeqCst) == expected as u32
            } else {
                AtomicU64::from_ptr(word.cast()).load(Ordering::SeqCst) == expected
            }
        }
    }
}

/// Checks the operand of a wait/notify: `HeapMisaligned` unless `addr` is a multiple of
/// `size`, then `MemoryOutOfBounds` unless `size` bytes there lie within `len`.
pub(crate) fn check_atomic_addr(addr: u64, size: u64, len: usize) -> Result<(), Trap> {
    if !addr.is_multiple_of(size) {
        return Err(Trap::HeapMisaligned);
    }
    if addr.saturating_add(size) > len as u64 {
        return Err(Trap::MemoryOutOfBounds);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(min: u64, max: u64) -> MemoryType {
        MemoryType {
            minimum: min,
            maximum: Some(max),
            memory64: false,
            shared: true,
        }
    }

    /// `Config`'s default reservation and guard on 64-bit hosts.
    fn new_shared(ty: &MemoryType) -> Result<VmSharedMemory> {
        VmSharedMemory::new(ty, 4 << 30, 32 << 20)
    }

    #[test]
    fn grows_in_place_and_publishes_the_length() {
        let m = new_shared(&shared(1, 3)).unwrap();
        let base = m.base();
        assert_eq!(m.grow(1), Some(1));
        assert_eq!(m.base(), base);
        assert_eq!(m.byte_size(), 2 * WASM_PAGE_SIZE);
        // SAFETY: the definition lives as long as `m`.
        let def = unsafe { &*m.definition_ptr() };
        assert_eq!(def.current_length, 2 * WASM_PAGE_SIZE);
        assert_eq!(m.grow(2), None);
        assert_eq!(m.grow(1), Some(2));
    }

    #[test]
    fn needs_a_shared_type() {
        let mut unshared = shared(1, 1);
        unshared.shared = false;
        assert!(new_shared(&unshared).is_err());
    }

    #[test]
    fn wait_and_notify_check_alignment_before_bounds() {
        let m = new_shared(&shared(1, 1)).unwrap();
        assert_eq!(m.notify(65536, 1), Err(Trap::MemoryOutOfBounds));
        assert_eq!(m.notify(65537, 1), Err(Trap::HeapMisaligned));
        assert_eq!(m.wait64(4, 0, None), Err(Trap::HeapMisaligned));
        assert_eq!(m.wait32(0, 1, None), Ok(WaitResult::Mismatch));
        assert_eq!(
            m.wait32(0, 0, Some(Duration::from_millis(1))),
            Ok(WaitResult::TimedOut)
        );
    }
}
