//! The set of PC ranges that hold compiled wasm code.
//!
//! The signal handler asks "is this PC wasm?" and may not take locks or
//! allocate, so the table is a grow-only array of chunks of slots. Writers
//! (register, unregister) serialise on a mutex; readers only load atomics.
//! Each slot is a small seqlock, so a reader never pairs the `start` of one
//! registration with the `end` of another when a slot is reused; a slot that
//! is being written is simply skipped (the code it describes is not yet, or
//! no longer, allowed to run). Chunks are never freed, so a reader can never
//! see a dangling chunk.

use std::ptr;
use std::sync::atomic::{fence, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

const SLOTS_PER_CHUNK: usize = 256;
const MAX_CHUNKS: usize = 1024;

type Chunk = [Slot; SLOTS_PER_CHUNK];

/// One registered range, `[start, end)`; empty when `start == end`.
struct Slot {
    /// Seqlock version: odd while the writer is changing `start`/`end`.
    version: AtomicUsize,
    start: AtomicUsize,
    end: AtomicUsize,
}

impl Slot {
    fn empty() -> Self {
        Slot {
            version: AtomicUsize::new(0),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
        }
    }

    /// Lock-free and async-signal-safe.
    fn contains(&self, pc: usize) -> bool {
        let before = self.version.load(Ordering::Acquire);
        if before % 2 == 1 {
            return false;
        }
        let start = self.start.load(Ordering::Relaxed);
        let end = self.end.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        let after = self.version.load(Ordering::Relaxed);
        before == after && start <= pc && pc < end
    }

    /// Only called with the table's writer lock held.
    fn set(&self, start: usize, end: usize) {
        let version = self.version.load(Ordering::Relaxed);
        self.version
            .store(version.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.start.store(start, Ordering::Relaxed);
        self.end.store(end, Ordering::Relaxed);
        self.version
            .store(version.wrapping_add(2), Ordering::Release);
    }
}

struct Table {
    chunks: [AtomicPtr<Chunk>; MAX_CHUNKS],
    /// Number of slots ever handed out; readers scan `0..high_water`.
    high_water: AtomicUsize,
    /// Writer lock, guarding the list of slots free for reuse.
    free_slots: Mutex<Vec<usize>>,
}

static TABLE: Table = Table {
    chunks: [const { AtomicPtr::new(ptr::null_mut()) }; MAX_CHUNKS],
    high_water: AtomicUsize::new(0),
    free_slots: Mutex::new(Vec::new()),
};

impl Table {
    fn slot(&self, index: usize) -> Option<&'static Slot> {
        let chunk = self.chunks[index / SLOTS_PER_CHUNK].load(Ordering::Acquire);
        // SAFETY: a non-null chunk pointer came from `Box::into_raw` in
        // `register` and chunks are never freed, so it is valid forever.
        let chunk: &'static Chunk = unsafe { chunk.as_ref()? };
        Some(&chunk[index % SLOTS_PER_CHUNK])
    }

    fn register(&self, start: usize, end: usize) -> usize {
        let mut free = self
            .free_slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let index = match free.pop() {
            Some(index) => index,
            None => {
                let index = self.high_water.load(Ordering::Relaxed);
                let chunk_index = index / SLOTS_PER_CHUNK;
                assert!(
                    chunk_index < MAX_CHUNKS,
                    "more than {} code ranges registered at once",
                    MAX_CHUNKS * SLOTS_PER_CHUNK
                );
                if index.is_multiple_of(SLOTS_PER_CHUNK) {
                    let chunk: Box<Chunk> = Box::new(std::array::from_fn(|_| Slot::empty()));
                    // Release: readers that see the pointer see the empty slots.
                    self.chunks[chunk_index].store(Box::into_raw(chunk), Ordering::Release);
                }
                // Release: readers that scan this index see its chunk.
                self.high_water.store(index + 1, Ordering::Release);
                index
            }
        };
        self.slot(index)
            .expect("slot below high water has a chunk")
            .set(start, end);
        index
    }

    fn unregister(&self, index: usize) {
        let mut free = self
            .free_slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.slot(index)
            .expect("registered slot has a chunk")
            .set(0, 0);
        free.push(index);
    }

    fn contains(&self, pc: usize) -> bool {
        let high_water = self.high_water.load(Ordering::Acquire);
        (0..high_water).any(|index| self.slot(index).is_some_and(|slot| slot.contains(pc)))
    }
}

/// Registration of one range of wasm code; dropping it unregisters the range.
///
/// Keep it alive for as long as the code can run: a trap at a PC outside
/// every registered range is not caught.
#[must_use = "dropping the handle unregisters the code range"]
#[derive(Debug)]
pub struct CodeRangeHandle {
    slot: usize,
}

impl Drop for CodeRangeHandle {
    fn drop(&mut self) {
        TABLE.unregister(self.slot);
    }
}

/// Registers `[start, end)` as compiled wasm code (functions or trampolines),
/// so that traps at PCs inside it are caught by `catch_traps`.
///
/// Ranges may overlap. Lookups scan every registered range, so prefer one
/// range per code image over one per function.
///
/// # Panics
/// If `start > end`, or if more than 262 144 ranges are registered at once.
pub fn register_code_range(start: usize, end: usize) -> CodeRangeHandle {
    assert!(start <= end, "code range {start:#x}..{end:#x} is reversed");
    CodeRangeHandle {
        slot: TABLE.register(start, end),
    }
}

/// Whether `pc` lies in a registered code range.
///
/// Lock-free and async-signal-safe: the signal handler calls it.
pub fn is_wasm_pc(pc: usize) -> bool {
    TABLE.contains(pc)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tests share the process-wide table, so each uses its own fake addresses
    // (far from anything mmap returns).
    const BASE: usize = 0x7a00_0000_0000;

    #[test]
    fn registered_range_is_half_open() {
        let start = BASE;
        let handle = register_code_range(start, start + 0x100);
        assert!(!is_wasm_pc(start - 1));
        assert!(is_wasm_pc(start));
        assert!(is_wasm_pc(start + 0xff));
        assert!(!is_wasm_pc(start + 0x100));
        drop(handle);
    }

    #[test]
    fn dropping_the_handle_unregisters() {
        let start = BASE + 0x1000_0000;
        let handle = register_code_range(start, start + 16);
        assert!(is_wasm_pc(start + 8));
        drop(handle);
        assert!(!is_wasm_pc(start + 8));
    }

    #[test]
    fn freed_slots_are_reused_and_table_grows_past_one_chunk() {
        let start = BASE + 0x2000_0000;
        let handles: Vec<_> = (0..3 * SLOTS_PER_CHUNK)
            .map(|i| register_code_range(start + i * 32, start + i * 32 + 16))
            .collect();
        assert!((0..3 * SLOTS_PER_CHUNK).all(|i| is_wasm_pc(start + i * 32 + 15)));
        assert!(!is_wasm_pc(start + 16));
        let high_water = TABLE.high_water.load(Ordering::Relaxed);
        drop(handles);
        assert!(!is_wasm_pc(start + 15));

        // Re-registering the same number of ranges reuses the freed slots
        // (other tests may register concurrently, hence the slack).
        let again: Vec<_> = (0..3 * SLOTS_PER_CHUNK)
            .map(|i| register_code_range(start + i * 32, start + i * 32 + 16))
            .collect();
        assert!(TABLE.high_water.load(Ordering::Relaxed) <= high_water + 64);
        drop(again);
    }
}
