//! Linear memories: a reservation of address space, committed as the memory grows.
//!
//! Reservations of static memories (the kind that never moves) are expensive to make and to
//! give back (`mmap`, `mprotect`, a page fault per touched page, `munmap`), so a small memory's
//! reservation is zeroed when its memory is dropped and kept in a process-wide pool for the next
//! static memory of the same layout (see `pool`).

use crate::vm::memory_image::{self, MemoryImage};
use crate::vm::shared_memory::VmSharedMemory;
use crate::vm::vmcontext::VMMemoryDefinition;
use anyhow::{bail, Context, Result};
use std::mem::ManuallyDrop;
use wasmjit_compiler::MemoryType;

/// Bytes in a wasm page.
pub const WASM_PAGE_SIZE: usize = 65536;

/// Most pages a 32-bit memory can have (4 GiB).
const MAX_PAGES_32: u64 = 1 << 16;

/// One linear memory of a store. Boxed by the store so that its definition has a stable
/// address. A shared memory's entry is a view of it: its definition (what compiled code
/// reads, and its size) lives in the shared memory, and `def` is unused.
pub(crate) struct VmMemory {
    def: VMMemoryDefinition,
    pub(crate) ty: MemoryType,
    backing: Backing,
    /// Bytes usable without moving (the mapping minus the guard region).
    reserved: usize,
    guard: usize,
    /// Whether this is a static memory (never moves), whose mapping may be pooled.
    is_static: bool,
    /// The bytes a module's copy-on-write image is mapped over (see `memory_image`), to be
    /// replaced by zero pages before the reservation is pooled.
    image: Option<std::ops::Range<usize>>,
}

/// Where a memory's bytes live.
enum Backing {
    /// wasmjit's own reservation, given back to `pool` (or unmapped) on drop.
    Mapping(ManuallyDrop<region::Allocation>),
    /// The embedder's memory (`Config::with_host_memory`).
    Host(Box<dyn HostBacking>),
    /// A shared memory, which may be in other stores too.
    Shared(VmSharedMemory),
}

/// Memory the embedder allocated, as a `VmMemory` uses it (the API's `LinearMemory` behind
/// it, see `host_memory`).
pub(crate) trait HostBacking: Send + Sync {
    /// The accessible size, in bytes.
    fn byte_size(&self) -> usize;
    /// The most bytes it holds without moving.
    fn byte_capacity(&self) -> usize;
    /// Makes `new_size` bytes accessible, zeroed past the old size.
    fn grow_to(&mut self, new_size: usize) -> Result<()>;
    /// The first byte.
    fn as_ptr(&self) -> *mut u8;
}

// SAFETY: the memory's base pointer points into its backing, which this value owns; nothing
// about it is tied to the creating thread (a host memory is `Send + Sync` by its trait).
unsafe impl Send for VmMemory {}
// SAFETY: shared references only read the definition; mutation goes through `&mut`.
unsafe impl Sync for VmMemory {}

impl VmMemory {
    /// A memory of `ty` in `memory`, the embedder's allocation of at least the minimum size
    /// (see `host_memory`). With `reserved` bytes (then never moving, followed by `guard`
    /// inaccessible bytes) compiled code elides bounds checks in it.
    pub(crate) fn from_host(
        ty: &MemoryType,
        memory: Box<dyn HostBacking>,
        reserved: usize,
        guard: usize,
    ) -> Result<Self> {
        let min_bytes = Self::initial_bytes(ty)?;
        if memory.byte_size() < min_bytes || memory.as_ptr().is_null() {
            bail!("the host's memory creator made a memory smaller than the minimum {min_bytes} bytes");
        }
        Ok(Self {
            def: VMMemoryDefinition {
                base: memory.as_ptr(),
                current_length: min_bytes,
            },
            ty: *ty,
            backing: Backing::Host(memory),
            reserved,
            guard,
            // Never pooled: the embedder owns it.
            is_static: false,
            image: None,
        })
    }

    /// A store's view of `shared`.
    pub(crate) fn shared(shared: VmSharedMemory) -> Self {
        Self {
            def: VMMemoryDefinition {
                base: std::ptr::null_mut(),
                current_length: 0,
            },
            ty: *shared.ty(),
            backing: Backing::Shared(shared),
            reserved: 0,
            guard: 0,
            is_static: false,
            image: None,
        }
    }

    /// The shared memory this entry is a view of, if it is one.
    pub(crate) fn as_shared(&self) -> Option<&VmSharedMemory> {
        match &self.backing {
            Backing::Shared(shared) => Some(shared),
            _ => None,
        }
    }

    /// The definition compiled code reads (its address is stable while the memory lives).
    pub(crate) fn definition_ptr(&self) -> *const VMMemoryDefinition {
        match &self.backing {
            Backing::Shared(shared) => shared.definition_ptr(),
            _ => &self.def,
        }
    }

    /// The first byte (valid until the memory grows, unless it is static or shared).
    pub(crate) fn base(&self) -> *mut u8 {
        match &self.backing {
            Backing::Shared(shared) => shared.base(),
            _ => self.def.base,
        }
    }

    /// The bytes a memory of type `ty` starts with; errors for a type no memory can have.
    pub(crate) fn initial_bytes(ty: &MemoryType) -> Result<usize> {
        if ty.shared {
            bail!("a shared memory cannot come from a memory creator");
        }
        if ty.minimum > max_pages_of(ty) {
            bail!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum
            );
        }
        Ok(ty.minimum as usize * WASM_PAGE_SIZE)
    }

    /// A new memory of `ty.minimum` pages. `reservation` and `guard` come from the config; a
    /// reservation of 4 GiB or more means the memory never moves (compiled code relies on it).
    pub(crate) fn new(ty: &MemoryType, reservation: u64, guard: u64) -> Result<Self> {
        let min_bytes = Self::initial_bytes(ty)?;
        let is_static = !ty.memory64 && reservation >= 1 << 32;
        let reserved = if is_static {
            reservation as usize
        } else {
            // Dynamic memory: reserve what the minimum needs (or the configured
            // reservation if larger); growing past it moves the memory.
            min_bytes.max(reservation.min(1 << 32) as usize)
        };
        let guard = if is_static { guard as usize } else { 0 };
        let total = reserved + guard;
        let mapping = match is_static.then(|| pool::take(total, min_bytes)).flatten() {
            Some(mapping) => mapping,
            None => map_reservation(total, min_bytes)?,
        };
        Ok(Self {
            def: VMMemoryDefinition {
                base: mapping.as_ptr::<u8>() as *mut u8,
                current_length: min_bytes,
            },
            ty: *ty,
            backing: Backing::Mapping(ManuallyDrop::new(mapping)),
            reserved,
            guard,
            is_static,
            image: None,
        })
    }

    /// Maps `image` over this memory's first bytes in place of copying its segments; false
    /// (nothing changed) where the layout does not allow it: only a fresh static memory of
    /// wasmjit's own, which never moves, takes an image, and only within its current size.
    pub(crate) fn map_image(&mut self, image: &MemoryImage) -> bool {
        let range = image.range();
        if !self.is_static
            || self.image.is_some()
            || range.end > self.def.current_length
            || !matches!(self.backing, Backing::Mapping(_))
        {
            return false;
        }
        // SAFETY: the range lies in the accessible bytes (checked) of this memory's own
        // reservation, which only this memory uses.
        let mapped = unsafe { image.map_at(self.def.base) };
        if mapped {
            self.image = Some(range);
        }
        mapped
    }
}

/// Reserves `total` bytes of address space with the first `accessible` read-write.
pub(crate) fn map_reservation(total: usize, accessible: usize) -> Result<region::Allocation> {
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

/// The most pages a memory of type `ty` may have.
pub(crate) fn max_pages_of(ty: &MemoryType) -> u64 {
    let limit = if ty.memory64 { 1 << 48 } else { MAX_PAGES_32 };
    ty.maximum.unwrap_or(limit).min(limit)
}

impl VmMemory {
    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        (self.byte_size() / WASM_PAGE_SIZE) as u64
    }

    /// Current size in bytes.
    pub(crate) fn byte_size(&self) -> usize {
        match &self.backing {
            Backing::Shared(shared) => shared.byte_size(),
            _ => self.def.current_length,
        }
    }

    /// Grows by `delta` pages; the old size in pages, or `None` when the memory cannot grow.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        if let Backing::Shared(shared) = &self.backing {
            return shared.grow(delta);
        }
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > max_pages_of(&self.ty) {
            return None;
        }
        let new_bytes = usize::try_from(new).ok()?.checked_mul(WASM_PAGE_SIZE)?;
        let old_bytes = self.def.current_length;
        let mapping = match &mut self.backing {
            Backing::Mapping(mapping) => mapping,
            Backing::Shared(_) => unreachable!("grown above"),
            Backing::Host(memory) => {
                if new_bytes > old_bytes {
                    memory.grow_to(new_bytes).ok()?;
                    if memory.byte_size() < new_bytes {
                        return None;
                    }
                }
                // A memory without a reservation may have moved.
                self.def.base = memory.as_ptr();
                self.def.current_length = new_bytes;
                return Some(old);
            }
        };
        if new_bytes > self.reserved {
            // Move: a new reservation, then copy the contents.
            let reserved = new_bytes.checked_mul(2)?.min(1 << 34).max(new_bytes);
            let new_mapping = map_reservation(reserved + self.guard, new_bytes).ok()?;
            // SAFETY: both ranges are accessible, `old_bytes` long, and do not overlap
            // (distinct mappings).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.def.base,
                    new_mapping.as_ptr::<u8>() as *mut u8,
                    old_bytes,
                );
            }
            self.def.base = new_mapping.as_ptr::<u8>() as *mut u8;
            // Assigning through the `ManuallyDrop` drops (unmaps) the old mapping.
            **mapping = new_mapping;
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

    /// The accessible bytes; empty for a shared memory, whose bytes other threads may
    /// change at any time (it is reached through [`VmMemory::raw`], never as a slice).
    pub(crate) fn data(&self) -> &[u8] {
        if self.as_shared().is_some() {
            return &[];
        }
        // SAFETY: `[base, base + current_length)` is mapped read-write and owned by `self`.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.current_length) }
    }

    /// The accessible bytes, mutably; empty for a shared memory (see [`VmMemory::data`]).
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        if self.as_shared().is_some() {
            return &mut [];
        }
        // SAFETY: as in `data`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.current_length) }
    }

    /// The first byte and the current length, for the runtime's own copies into and out of
    /// any memory, shared ones included (raw pointer copies, as wasm's own accesses).
    pub(crate) fn raw(&self) -> (*mut u8, usize) {
        (self.base(), self.byte_size())
    }

    /// Whether `addr` falls in this memory's reservation or guard region.
    pub(crate) fn contains_addr(&self, addr: usize) -> bool {
        let (start, len) = match &self.backing {
            Backing::Shared(shared) => return shared.contains_addr(addr),
            Backing::Mapping(mapping) => (mapping.as_ptr::<u8>() as usize, mapping.len()),
            Backing::Host(memory) => {
                let reserved = self.reserved.max(memory.byte_capacity());
                (
                    memory.as_ptr() as usize,
                    reserved.saturating_add(self.guard),
                )
            }
        };
        addr >= start && addr - start < len
    }
}

impl Drop for VmMemory {
    fn drop(&mut self) {
        let Backing::Mapping(mapping) = &mut self.backing else {
            return; // a host memory drops with its box
        };
        // SAFETY: `drop` runs once, and the mapping is not used after this.
        let mapping = unsafe { ManuallyDrop::take(mapping) };
        // A reservation an image was mapped over is pooled only once that range is anonymous
        // zero pages again (zeroing it with stores would leave file-backed pages, which
        // `MADV_DONTNEED` would bring back as the image's contents).
        let unmapped = match self.image.take() {
            // SAFETY: the range lies in `mapping`, which nothing uses any more.
            Some(range) => unsafe { memory_image::unmap_image(self.def.base, range) },
            None => true,
        };
        if self.is_static && unmapped {
            pool::give_back(mapping, self.def.current_length);
        }
        // Otherwise `mapping` drops here, unmapping the reservation.
    }
}

/// Released reservations of static memories, for reuse. Every pooled mapping has its first
/// `accessible` bytes read-write and the rest inaccessible, and every byte of it is zero (the
/// bytes past `accessible` were zeroed before they were last made inaccessible, or never
/// written), so a memory made from one is indistinguishable from a fresh `mmap`.
///
/// The pool is capped in entries. A released memory keeps at most its first `KEEP_RESIDENT`
/// bytes resident (zeroed with stores where they were touched); the pages past them are
/// handed back to the kernel with one `MADV_DONTNEED`, so the pool holds at most
/// `CAPACITY * KEEP_RESIDENT` bytes of resident memory whatever the memories' sizes, and a
/// memory of any initial size is made without `mmap` once the pool is warm.
mod pool {
    use std::sync::Mutex;

    /// Most mappings the pool keeps.
    pub(super) const CAPACITY: usize = 16;
    /// Bytes at the start of a released memory that stay resident in the pool (zeroing them
    /// with stores beats `munmap` + `mmap` + page faults while they are few); the rest is
    /// discarded.
    pub(super) const KEEP_RESIDENT: usize = 4 * super::WASM_PAGE_SIZE;

    struct Pooled {
        mapping: region::Allocation,
        accessible: usize,
    }

    // SAFETY: a pooled mapping is owned by the pool alone (no memory refers to it any more),
    // and an address-space reservation is not tied to a thread.
    unsafe impl Send for Pooled {}

    static POOL: Mutex<Vec<Pooled>> = Mutex::new(Vec::new());

    fn pool() -> std::sync::MutexGuard<'static, Vec<Pooled>> {
        // The pool's invariants hold between statements, so a poisoned lock is still usable.
        POOL.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A pooled mapping of `total` bytes with its first `accessible` bytes read-write, zeroed,
    /// and the rest inaccessible; `None` when the pool has none (or re-protecting failed).
    pub(super) fn take(total: usize, accessible: usize) -> Option<region::Allocation> {
        let Pooled {
            mapping,
            accessible: was,
        } = {
            let mut pool = pool();
            let i = pool.iter().position(|p| p.mapping.len() == total)?;
            pool.swap_remove(i)
        };
        let base = mapping.as_ptr::<u8>();
        // SAFETY: both ranges lie within `mapping` (`accessible` fits the reservation: the
        // caller checked it against the memory's maximum), which only this function holds.
        let protected = unsafe {
            if was < accessible {
                region::protect(
                    base.add(was),
                    accessible - was,
                    region::Protection::READ_WRITE,
                )
            } else if was > accessible {
                region::protect(
                    base.add(accessible),
                    was - accessible,
                    region::Protection::NONE,
                )
            } else {
                Ok(())
            }
        };
        // On failure the mapping is simply unmapped, and the caller maps a fresh one.
        protected.ok().map(|()| mapping)
    }

    /// Zeroes the first `accessible` bytes of a released static memory's `mapping` and pools
    /// it, or unmaps it when the pool is full (or, off Linux, when it is too large to zero).
    pub(super) fn give_back(mapping: region::Allocation, accessible: usize) {
        if pool().len() >= CAPACITY || !cfg!(target_os = "linux") && accessible > KEEP_RESIDENT {
            return;
        }
        let base = mapping.as_ptr::<u8>() as *mut u8;
        let kept = accessible.min(KEEP_RESIDENT);
        // SAFETY: the first `accessible` bytes of the mapping are read-write (the memory's
        // current length), and the memory that used them is being dropped.
        unsafe { zero(base, kept) };
        if accessible > kept && !discard(base, kept, accessible - kept) {
            return;
        }
        let mut pool = pool();
        if pool.len() < CAPACITY {
            pool.push(Pooled {
                mapping,
                accessible,
            });
        }
    }

    /// Hands the pages of `[base + from, base + from + len)` back to the kernel; they read as
    /// zero afterwards. False when the kernel refused (the mapping is then not pooled).
    #[cfg(target_os = "linux")]
    fn discard(base: *mut u8, from: usize, len: usize) -> bool {
        // SAFETY: the range is read-write memory of the private anonymous mapping being
        // released (`give_back`'s caller owns it); discarding its pages changes nothing any
        // other code can observe.
        unsafe { libc::madvise(base.add(from).cast(), len, libc::MADV_DONTNEED) == 0 }
    }

    #[cfg(not(target_os = "linux"))]
    fn discard(_base: *mut u8, _from: usize, _len: usize) -> bool {
        false
    }

    /// Zeroes `len` bytes at `base` (whole pages): pages the kernel reports resident are
    /// cleared with stores, which keeps them resident for the next memory; the others are
    /// discarded with `MADV_DONTNEED`, which reads them back as zero (a page that is not
    /// resident may be swapped out, so it is not known to be zero). Most instances touch few
    /// of their pages, so this clears much less than the whole memory.
    ///
    /// # Safety
    /// `[base, base + len)` must be read-write memory of a private anonymous mapping that
    /// nothing else uses.
    #[cfg(target_os = "linux")]
    unsafe fn zero(base: *mut u8, len: usize) {
        let page = region::page::size();
        let mut resident = [0u8; KEEP_RESIDENT / 4096];
        let pages = len.div_ceil(page);
        // SAFETY: `resident` has room for one byte per page of the range (checked first),
        // and the range is mapped (the caller's contract).
        let queried = pages <= resident.len()
            && unsafe { libc::mincore(base.cast(), len, resident.as_mut_ptr()) } == 0;
        if !queried {
            // SAFETY: the range is read-write and unused (the caller's contract).
            unsafe { std::ptr::write_bytes(base, 0, len) };
            return;
        }
        // A store to a non-resident page is correct too (it just faults the page in), so
        // after a few `madvise` calls the remaining runs are cleared with stores: a memory that
        // touched every other page costs a bounded number of system calls.
        let mut madvise_left: u32 = 4;
        let mut i = 0;
        while i < pages {
            let is_resident = resident[i] & 1;
            let mut j = i + 1;
            while j < pages && resident[j] & 1 == is_resident {
                j += 1;
            }
            let n = (j * page).min(len) - i * page;
            // SAFETY: `[i * page, i * page + n)` lies within the range (the caller's
            // contract covers stores to it and discarding it).
            unsafe {
                let start = base.add(i * page);
                let discarded = is_resident == 0
                    && madvise_left > 0
                    && libc::madvise(start.cast(), n, libc::MADV_DONTNEED) == 0;
                if is_resident == 0 {
                    madvise_left = madvise_left.saturating_sub(1);
                }
                if !discarded {
                    std::ptr::write_bytes(start, 0, n);
                }
            }
            i = j;
        }
    }

    /// Zeroes `len` bytes at `base`.
    ///
    /// # Safety
    /// `[base, base + len)` must be read-write memory that nothing else uses.
    #[cfg(not(target_os = "linux"))]
    unsafe fn zero(base: *mut u8, len: usize) {
        // SAFETY: the caller's contract.
        unsafe { std::ptr::write_bytes(base, 0, len) };
    }

    /// Unmaps every pooled mapping of `total` bytes (for tests).
    #[cfg(test)]
    pub(super) fn drain(total: usize) {
        pool().retain(|p| p.mapping.len() != total);
    }

    /// How many mappings of `total` bytes are pooled (for tests).
    #[cfg(test)]
    pub(super) fn count(total: usize) -> usize {
        pool().iter().filter(|p| p.mapping.len() == total).count()
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

    /// Held by the tests that count pooled mappings: the pool is shared by the whole process,
    /// and `the_pool_is_capped` fills it.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A guard size no other test uses, so that the pool's mappings of this layout are this
    /// test's alone (the pool is process-wide and tests run in parallel).
    const OWN_GUARD: u64 = 3 * WASM_PAGE_SIZE as u64;

    #[test]
    fn pooled_mappings_come_back_zeroed_and_resized() {
        let _serial = serial();
        let mut a = VmMemory::new(&ty(2, None), 1 << 32, OWN_GUARD).unwrap();
        a.data_mut().fill(0xAB);
        let base = a.def.base;
        drop(a);
        let total = (1 << 32) + OWN_GUARD as usize;
        assert_eq!(pool::count(total), 1);

        // Smaller: the same mapping, zeroed, with the second page inaccessible again.
        let b = VmMemory::new(&ty(1, None), 1 << 32, OWN_GUARD).unwrap();
        assert_eq!(b.def.base, base, "the released mapping is reused");
        assert_eq!(b.byte_size(), WASM_PAGE_SIZE);
        assert!(b.data().iter().all(|&x| x == 0));
        // SAFETY: only computes an address inside the reservation; nothing is accessed.
        let second_page = unsafe { base.add(WASM_PAGE_SIZE) };
        let info = region::query(second_page).unwrap();
        assert_eq!(info.protection(), region::Protection::NONE);
        drop(b);
        assert_eq!(pool::count(total), 1);

        // Larger: the same mapping again, all three pages read-write and zero.
        let mut c = VmMemory::new(&ty(3, None), 1 << 32, OWN_GUARD).unwrap();
        assert_eq!(c.def.base, base);
        assert!(c.data().iter().all(|&x| x == 0));
        c.data_mut()[3 * WASM_PAGE_SIZE - 1] = 1;
        assert_eq!(c.grow(1), Some(3));
        assert!(c.data()[3 * WASM_PAGE_SIZE..].iter().all(|&x| x == 0));
    }

    #[test]
    fn large_memories_are_pooled_with_their_tail_discarded() {
        let _serial = serial();
        let guard = 5 * WASM_PAGE_SIZE as u64;
        let pages = (pool::KEEP_RESIDENT / WASM_PAGE_SIZE) as u64 * 4;
        let total = (1 << 32) + guard as usize;
        let mut a = VmMemory::new(&ty(pages, None), 1 << 32, guard).unwrap();
        let base = a.def.base;
        a.data_mut().fill(0x5A);
        drop(a);
        assert_eq!(pool::count(total), 1, "pooled whatever its size");

        let b = VmMemory::new(&ty(pages, None), 1 << 32, guard).unwrap();
        assert_eq!(b.def.base, base, "the released mapping is reused");
        // Past `KEEP_RESIDENT`, the pages went back to the kernel: none is resident until
        // touched again (checked before reading them, which would fault them in).
        let tail = b.byte_size() - pool::KEEP_RESIDENT;
        let page = region::page::size();
        let mut resident = vec![0u8; tail.div_ceil(page)];
        // SAFETY: the range is mapped read-write (b's accessible bytes); `resident` has one
        // byte per page of it.
        let queried = unsafe {
            libc::mincore(
                base.add(pool::KEEP_RESIDENT).cast(),
                tail,
                resident.as_mut_ptr(),
            )
        };
        assert_eq!(queried, 0);
        assert!(
            resident.iter().all(|r| r & 1 == 0),
            "the tail was discarded"
        );
        assert!(b.data().iter().all(|&x| x == 0));
        drop(b);
        pool::drain(total);
    }

    #[test]
    fn the_pool_is_capped() {
        let _serial = serial();
        let guard = 7 * WASM_PAGE_SIZE as u64;
        let total = (1 << 32) + guard as usize;
        let mems: Vec<_> = (0..pool::CAPACITY + 4)
            .map(|_| VmMemory::new(&ty(1, None), 1 << 32, guard).unwrap())
            .collect();
        drop(mems);
        assert!(pool::count(total) <= pool::CAPACITY);
        assert!(pool::count(total) >= 1);
        pool::drain(total);
    }

    #[test]
    fn sparsely_touched_memories_come_back_zeroed() {
        let _serial = serial();
        let guard = 9 * WASM_PAGE_SIZE as u64;
        let page = region::page::size();
        let mut a = VmMemory::new(&ty(4, None), 1 << 32, guard).unwrap();
        let base = a.def.base;
        // Every third OS page written: resident and non-resident runs alternate, more of them
        // than `zero` discards with `madvise`.
        for (n, p) in (0..a.byte_size()).step_by(page).enumerate() {
            if n % 3 == 0 {
                a.data_mut()[p + 7] = 0xCD;
            }
        }
        drop(a);
        let b = VmMemory::new(&ty(4, None), 1 << 32, guard).unwrap();
        assert_eq!(b.def.base, base, "the released mapping is reused");
        assert!(b.data().iter().all(|&x| x == 0));
    }
}
