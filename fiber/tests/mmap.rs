//! The default mmap'd stack: layout, guard page, zeroing.

mod common;

use common::page_size;
use wasmjit_fiber::{DefaultStackCreator, MmapStack, StackCreator, StackMemory};

/// The protection of the mapping holding `addr`, as `/proc/self/maps` shows it (`rw-p`...).
fn protection(addr: usize) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next().unwrap().split_once('-').unwrap();
        let start = usize::from_str_radix(start, 16).unwrap();
        let end = usize::from_str_radix(end, 16).unwrap();
        if (start..end).contains(&addr) {
            return fields.next().unwrap().to_string();
        }
    }
    panic!("{addr:#x} is not mapped");
}

#[test]
fn mmap_stack_has_guard_below_usable_pages() {
    let page = page_size();
    let stack = MmapStack::new(3 * page + 1).unwrap();
    let range = stack.range();
    let guard = stack.guard_range();
    assert_eq!(range.len(), 4 * page, "rounded up to whole pages");
    assert_eq!(stack.top() as usize, range.end);
    assert_eq!(range.start % page, 0);
    assert_eq!(guard.end as usize, range.start);
    assert_eq!(guard.end as usize - guard.start as usize, page);
    assert_eq!(protection(guard.start as usize), "---p");
    assert_eq!(protection(range.start), "rw-p");
    assert_eq!(protection(range.end - 1), "rw-p");
}

#[test]
fn mmap_stack_is_zeroed_and_zero_discards_writes() {
    let mut stack = MmapStack::new(64 << 10).unwrap();
    let range = stack.range();
    let bytes = range.start as *mut u8;
    // SAFETY: the usable range is ours and nothing runs on it.
    let memory = unsafe { std::slice::from_raw_parts_mut(bytes, range.len()) };
    assert!(memory.iter().all(|&b| b == 0));
    memory.fill(0xa5);
    stack.zero().unwrap();
    // SAFETY: as above; `zero` kept the range mapped read-write.
    let memory = unsafe { std::slice::from_raw_parts(bytes, range.len()) };
    assert!(memory.iter().all(|&b| b == 0));
}

#[test]
fn default_creator_gives_at_least_the_requested_size() {
    for size in [0, 1, 4096, 100_000, 1 << 20] {
        let stack = DefaultStackCreator.new_stack(size, true).unwrap();
        assert!(stack.range().len() >= size.max(1));
        assert_eq!(stack.top() as usize, stack.range().end);
    }
}
