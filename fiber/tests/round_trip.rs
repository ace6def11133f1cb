//! Cost of a suspend/resume round trip and of a pooled fiber's whole life. Prints the times;
//! run with `cargo test --release --test round_trip -- --nocapture`.

use std::sync::Arc;
use std::time::Instant;

use wasmjit_fiber::{
    DefaultStackCreator, Fiber, FiberResult, StackCreator, StackPool, StackPoolConfig, Suspend,
};

const ROUND_TRIPS: u64 = 1_000_000;

#[test]
fn million_suspend_resume_round_trips() {
    let stack = DefaultStackCreator.new_stack(64 << 10, true).unwrap();
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(stack, |mut x: u64, s: &Suspend<u64, u64, u64>| {
            while x != u64::MAX {
                x = s.suspend(x + 1);
            }
            0
        })
    }
    .unwrap();
    let start = Instant::now();
    let mut sum = 0;
    for i in 0..ROUND_TRIPS {
        match fiber.resume(i) {
            FiberResult::Yield(y) => sum += y,
            FiberResult::Return(_) => unreachable!(),
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(sum, ROUND_TRIPS * (ROUND_TRIPS + 1) / 2);
    assert_eq!(fiber.resume(u64::MAX), FiberResult::Return(0));
    println!(
        "{ROUND_TRIPS} round trips in {elapsed:?}: {:.1} ns per round trip",
        elapsed.as_nanos() as f64 / ROUND_TRIPS as f64
    );
}

#[test]
fn pooled_fiber_lifecycle_cost() {
    const FIBERS: u32 = 100_000;
    let config = StackPoolConfig {
        stack_size: 64 << 10,
        max_idle: 4,
        zero_on_reuse: false,
    };
    let pool = StackPool::new(Arc::new(DefaultStackCreator), config);
    let start = Instant::now();
    for i in 0..FIBERS {
        // SAFETY: the fiber stays on this thread.
        let mut fiber = unsafe {
            Fiber::new(
                pool.take().unwrap(),
                |x: u32, s: &Suspend<u32, u32, u32>| s.suspend(x) + 1,
            )
        }
        .unwrap();
        assert_eq!(fiber.resume(i), FiberResult::Yield(i));
        assert_eq!(fiber.resume(i), FiberResult::Return(i + 1));
    }
    let elapsed = start.elapsed();
    println!(
        "{FIBERS} pooled fibers (take, start, suspend, finish, return) in {elapsed:?}: {:.1} ns each",
        elapsed.as_nanos() as f64 / f64::from(FIBERS)
    );
}
