//! A steady stream of fibers on pooled stacks allocates nothing once the pool is warm.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use wasmjit_fiber::{DefaultStackCreator, Fiber, FiberResult, StackPool, StackPoolConfig, Suspend};

/// The system allocator, counting allocations made by each thread.
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counter is a const-initialized thread-local
// without a destructor, so touching it never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn run_one(pool: &StackPool) {
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(
            pool.take().unwrap(),
            |x: u64, s: &Suspend<u64, u64, u64>| {
                let y = s.suspend(x + 1);
                y * 2
            },
        )
    }
    .unwrap();
    assert_eq!(fiber.resume(1), FiberResult::Yield(2));
    assert_eq!(fiber.resume(5), FiberResult::Return(10));
}

#[test]
fn steady_stream_of_pooled_fibers_allocates_nothing() {
    let config = StackPoolConfig {
        stack_size: 64 << 10,
        max_idle: 4,
        zero_on_reuse: true,
    };
    let pool = StackPool::new(Arc::new(DefaultStackCreator), config);
    run_one(&pool); // warm up: the pool's first stack
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..1000 {
        run_one(&pool);
    }
    assert_eq!(ALLOCATIONS.with(Cell::get) - before, 0);
}
