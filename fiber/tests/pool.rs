//! The stack pool: reuse, bounds, zeroing, and stacks coming back from fibers.

mod common;

use std::sync::Arc;

use common::CountingCreator;
use wasmjit_fiber::{
    DefaultStackCreator, Fiber, FiberResult, StackCreator, StackMemory, StackPool, StackPoolConfig,
    Suspend,
};

fn config(max_idle: usize, zero_on_reuse: bool) -> StackPoolConfig {
    StackPoolConfig {
        stack_size: 64 << 10,
        max_idle,
        zero_on_reuse,
    }
}

#[test]
fn pool_reuses_the_same_stack() {
    let pool = StackPool::new(Arc::new(DefaultStackCreator), config(4, false));
    let first = pool.take().unwrap();
    let top = first.top();
    assert_eq!(pool.idle_count(), 0);
    drop(first);
    assert_eq!(pool.idle_count(), 1);
    let second = pool.take().unwrap();
    assert_eq!(second.top(), top);
}

#[test]
fn pool_creates_only_when_none_is_idle_and_keeps_at_most_max_idle() {
    let creator = CountingCreator::new();
    let pool = StackPool::new(creator.clone(), config(2, false));
    let stacks: Vec<_> = (0..5).map(|_| pool.take().unwrap()).collect();
    assert_eq!((creator.created(), creator.live()), (5, 5));
    drop(stacks);
    assert_eq!(pool.idle_count(), 2);
    assert_eq!(creator.live(), 2);
    let again: Vec<_> = (0..3).map(|_| pool.take().unwrap()).collect();
    assert_eq!(creator.created(), 6, "two reused, one new");
    drop(again);
    drop(pool);
    assert_eq!(creator.live(), 0, "idle stacks freed with the pool");
}

#[test]
fn stack_on_loan_outlives_the_pool() {
    let creator = CountingCreator::new();
    let pool = StackPool::new(creator.clone(), config(2, false));
    let stack = pool.take().unwrap();
    drop(pool);
    assert_eq!(creator.live(), 1);
    drop(stack);
    assert_eq!(creator.live(), 0);
}

/// Writes a pattern over a pooled stack, returns it, takes it back and checks it is zeroed.
fn check_zeroing(creator: Arc<dyn StackCreator>) {
    let pool = StackPool::new(creator, config(1, true));
    let stack = pool.take().unwrap();
    let range = stack.range();
    // SAFETY: the stack is on loan to us and nothing runs on it.
    unsafe { std::ptr::write_bytes(range.start as *mut u8, 0x5a, range.len()) };
    drop(stack);
    let stack = pool.take().unwrap();
    assert_eq!(stack.range(), range, "same stack");
    // SAFETY: as above.
    let memory = unsafe { std::slice::from_raw_parts(range.start as *const u8, range.len()) };
    assert!(memory.iter().all(|&b| b == 0));
}

#[test]
fn pool_zeroes_reused_mmap_stacks() {
    check_zeroing(Arc::new(DefaultStackCreator));
}

#[test]
fn pool_zeroes_reused_custom_stacks() {
    check_zeroing(CountingCreator::new());
}

#[test]
fn finished_fiber_returns_its_stack_to_the_pool_at_once() {
    let pool = StackPool::new(Arc::new(DefaultStackCreator), config(4, false));
    let stack = pool.take().unwrap();
    let top = stack.top();
    // SAFETY: the fiber stays on this thread.
    let mut fiber =
        unsafe { Fiber::new(stack, |x: u32, s: &Suspend<u32, u32, u32>| s.suspend(x)) }.unwrap();
    assert_eq!(fiber.resume(1), FiberResult::Yield(1));
    assert_eq!(pool.idle_count(), 0);
    assert_eq!(fiber.resume(2), FiberResult::Return(2));
    assert_eq!(pool.idle_count(), 1, "back before the fiber is dropped");
    assert_eq!(pool.take().unwrap().top(), top);
}

#[test]
fn dropped_suspended_fiber_returns_its_stack_to_the_pool() {
    let pool = StackPool::new(Arc::new(DefaultStackCreator), config(4, true));
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(pool.take().unwrap(), |(), s: &Suspend<(), (), ()>| loop {
            s.suspend(());
        })
    }
    .unwrap();
    let _ = fiber.resume(());
    drop(fiber);
    assert_eq!(pool.idle_count(), 1);
}
