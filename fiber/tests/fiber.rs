//! Fibers: values both ways, nesting, panics, custom stacks, dropping while suspended, and
//! resuming on another thread.

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{stack_address, CountingCreator, DropCounter};
use wasmjit_fiber::{
    DefaultStackCreator, Fiber, FiberResult, FiberStack, StackCreator, StackMemory, Suspend,
};

const STACK_SIZE: usize = 64 << 10;

fn mmap_stack() -> FiberStack {
    DefaultStackCreator
        .new_stack(STACK_SIZE, true)
        .unwrap()
        .into()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("<not a string>")
}

#[test]
fn resume_and_suspend_pass_values_both_ways() {
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(mmap_stack(), |first: u32, s: &Suspend<u32, String, u64>| {
            let mut total = u64::from(first);
            for i in 0..3 {
                total += u64::from(s.suspend(format!("step {i}, total {total}")));
            }
            total
        })
    }
    .unwrap();
    assert!(!fiber.done());
    assert_eq!(fiber.resume(1).into_yield().unwrap(), "step 0, total 1");
    assert_eq!(fiber.resume(10).into_yield().unwrap(), "step 1, total 11");
    assert_eq!(fiber.resume(100).into_yield().unwrap(), "step 2, total 111");
    assert_eq!(fiber.resume(1000), FiberResult::Return(1111));
    assert!(fiber.done());
    assert!(fiber.trap_handler().is_none());
}

#[test]
fn fiber_resumed_from_inside_another_fiber() {
    let log = std::sync::Mutex::new(Vec::new());
    let log = &log;
    let push = |entry: &str| log.lock().unwrap().push(entry.to_string());

    let outer_body = move |_first: u32, outer_suspend: &Suspend<u32, u32, u32>| {
        let outer_range = outer_suspend.stack_range();
        // SAFETY: the fibers stay on this thread.
        let mut inner = unsafe {
            Fiber::new(mmap_stack(), move |x: u32, s: &Suspend<u32, u32, u32>| {
                push("inner start");
                assert!(!outer_range.contains(&stack_address()));
                assert!(s.stack_range().contains(&stack_address()));
                let y = s.suspend(x * 2);
                push("inner resumed");
                y + 1
            })
        }
        .unwrap();
        push("outer start");
        let doubled = inner.resume(21).into_yield().unwrap();
        // Suspend the outer fiber while the inner one is suspended inside it.
        let from_parent = outer_suspend.suspend(doubled);
        push("outer resumed");
        let result = inner.resume(from_parent).into_return().unwrap();
        assert!(inner.done());
        result
    };
    // SAFETY: the fibers stay on this thread.
    let mut outer = unsafe { Fiber::new(mmap_stack(), outer_body) }.unwrap();

    assert_eq!(outer.resume(0), FiberResult::Yield(42));
    assert_eq!(outer.resume(7), FiberResult::Return(8));
    assert_eq!(
        *log.lock().unwrap(),
        [
            "outer start",
            "inner start",
            "outer resumed",
            "inner resumed"
        ]
    );
}

#[test]
fn panic_in_fiber_reaches_resume_caller_and_releases_stack() {
    let creator = CountingCreator::new();
    let stack = creator.new_stack(STACK_SIZE, true).unwrap();
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(stack, |(), s: &Suspend<(), (), ()>| {
            s.suspend(());
            panic!("boom on the fiber");
        })
    }
    .unwrap();
    assert_eq!(fiber.resume(()), FiberResult::Yield(()));
    assert_eq!(creator.live(), 1);

    let payload = panic::catch_unwind(AssertUnwindSafe(|| fiber.resume(()))).unwrap_err();
    assert_eq!(panic_message(&*payload), "boom on the fiber");
    assert!(fiber.done());
    assert_eq!(
        creator.live(),
        0,
        "stack released as soon as the fiber died"
    );

    let again = panic::catch_unwind(AssertUnwindSafe(|| fiber.resume(()))).unwrap_err();
    assert_eq!(panic_message(&*again), "resumed a fiber that is done");
}

#[test]
fn fiber_runs_on_the_creators_stack() {
    let creator = CountingCreator::new();
    let stack = creator.new_stack(STACK_SIZE, true).unwrap();
    let range = stack.range();
    let seen = AtomicUsize::new(0);
    let seen = &seen;
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(stack, move |(), s: &Suspend<(), (), _>| {
            seen.store(stack_address(), Ordering::SeqCst);
            s.stack_range()
        })
    }
    .unwrap();
    assert_eq!(fiber.stack_range(), range);
    assert!(!range.contains(&stack_address()));

    let reported = fiber.resume(()).into_return().unwrap();
    assert_eq!(reported, range);
    let sp = seen.load(Ordering::SeqCst);
    assert!(range.contains(&sp), "{sp:#x} not in {range:#x?}");
    assert_eq!(creator.live(), 0);
}

/// Suspends `depth` frames deep, each frame holding a value counted when dropped.
fn suspend_deep(depth: usize, drops: &Arc<AtomicUsize>, s: &Suspend<(), (), ()>) {
    let _held = DropCounter(drops.clone());
    if depth == 0 {
        loop {
            s.suspend(());
        }
    }
    suspend_deep(depth - 1, drops, s);
}

#[test]
fn dropping_suspended_fibers_unwinds_them_and_frees_their_stacks() {
    let creator = CountingCreator::new();
    let drops = Arc::new(AtomicUsize::new(0));
    // Drop after 0 resumes (never started), 1 and 5 (suspended deep inside), and 2 (returned).
    for (resumes, returns_after) in [(0, None), (1, None), (5, None), (2, Some(1))] {
        drops.store(0, Ordering::SeqCst);
        let stack = creator.new_stack(STACK_SIZE, true).unwrap();
        let captured = DropCounter(drops.clone());
        let in_fiber = drops.clone();
        // SAFETY: the fiber stays on this thread.
        let mut fiber = unsafe {
            Fiber::new(stack, move |(), s: &Suspend<(), (), ()>| {
                let _captured = captured;
                if let Some(n) = returns_after {
                    for _ in 0..n {
                        s.suspend(());
                    }
                    return;
                }
                suspend_deep(10, &in_fiber, s);
            })
        }
        .unwrap();
        for _ in 0..resumes {
            let _ = fiber.resume(());
        }
        assert_eq!(creator.live(), usize::from(!fiber.done()));
        drop(fiber);
        assert_eq!(creator.live(), 0, "after {resumes} resumes");
        let expected = match (resumes, returns_after) {
            (_, Some(_)) | (0, _) => 1, // only the captured value
            _ => 1 + 11,                // and one per frame of `suspend_deep`
        };
        assert_eq!(
            drops.load(Ordering::SeqCst),
            expected,
            "after {resumes} resumes"
        );
    }
}

#[test]
fn dropping_an_outer_fiber_unwinds_the_inner_fiber_suspended_on_its_stack() {
    let creator = CountingCreator::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let inner_drops = drops.clone();
    let inner_stack = creator.new_stack(STACK_SIZE, true).unwrap();
    let outer_drops = Arc::new(AtomicUsize::new(0));
    let held_by_outer = outer_drops.clone();
    let outer_body = move |(), s: &Suspend<(), (), ()>| {
        // SAFETY: the fibers stay on this thread.
        let mut inner = unsafe {
            Fiber::new(inner_stack, move |(), s: &Suspend<(), (), ()>| {
                suspend_deep(2, &inner_drops, s)
            })
        }
        .unwrap();
        let _ = inner.resume(());
        let _held = DropCounter(held_by_outer);
        loop {
            s.suspend(());
        }
    };
    // SAFETY: the fibers stay on this thread.
    let mut outer =
        unsafe { Fiber::new(creator.new_stack(STACK_SIZE, true).unwrap(), outer_body) }.unwrap();
    let _ = outer.resume(());
    assert_eq!(creator.live(), 2);
    drop(outer);
    assert_eq!(creator.live(), 0);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "inner frames unwound");
    assert_eq!(outer_drops.load(Ordering::SeqCst), 1, "outer frame unwound");
}

#[test]
fn dropping_a_suspended_fiber_while_panicking_does_not_abort() {
    let creator = CountingCreator::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let in_fiber = drops.clone();
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(
            creator.new_stack(STACK_SIZE, true).unwrap(),
            move |(), s: &Suspend<(), (), ()>| suspend_deep(3, &in_fiber, s),
        )
    }
    .unwrap();
    let _ = fiber.resume(());
    let result = panic::catch_unwind(AssertUnwindSafe(move || {
        let _fiber = fiber;
        panic!("unrelated panic");
    }));
    assert_eq!(panic_message(&*result.unwrap_err()), "unrelated panic");
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    assert_eq!(creator.live(), 0);
}

#[test]
fn panic_while_unwinding_a_dropped_fiber_propagates_from_drop() {
    let creator = CountingCreator::new();
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(
            creator.new_stack(STACK_SIZE, true).unwrap(),
            |(), s: &Suspend<(), (), ()>| {
                // Swallowing the forced unwind and panicking instead is a bug in the fiber's
                // code, but it must not take the process down.
                let _ = panic::catch_unwind(AssertUnwindSafe(|| s.suspend(())));
                panic!("refused to unwind");
            },
        )
    }
    .unwrap();
    let _ = fiber.resume(());
    let payload = panic::catch_unwind(AssertUnwindSafe(move || drop(fiber))).unwrap_err();
    assert_eq!(panic_message(&*payload), "refused to unwind");
    assert_eq!(creator.live(), 0);
}

#[test]
fn panic_dropping_an_unstarted_closure_propagates_from_drop() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("closure capture panicked");
        }
    }
    let creator = CountingCreator::new();
    let capture = PanicOnDrop;
    // SAFETY: the fiber stays on this thread.
    let fiber = unsafe {
        Fiber::new(
            creator.new_stack(STACK_SIZE, true).unwrap(),
            move |(), _: &Suspend<(), (), ()>| {
                let _capture = capture;
            },
        )
    }
    .unwrap();
    let payload = panic::catch_unwind(AssertUnwindSafe(move || drop(fiber))).unwrap_err();
    assert_eq!(panic_message(&*payload), "closure capture panicked");
    assert_eq!(creator.live(), 0);
}

#[test]
fn suspended_fiber_resumes_on_another_thread() {
    fn assert_send<T: Send>(_: &T) {}
    let creator = CountingCreator::new();
    // SAFETY: nothing thread-bound is held across `suspend`: thread ids are read afresh.
    let mut fiber = unsafe {
        Fiber::new(
            creator.new_stack(STACK_SIZE, true).unwrap(),
            |first: u32, s: &Suspend<u32, std::thread::ThreadId, u32>| {
                let mut sum = first;
                sum += s.suspend(std::thread::current().id());
                sum += s.suspend(std::thread::current().id());
                sum
            },
        )
    }
    .unwrap();
    assert_send(&fiber);
    let main = std::thread::current().id();
    assert_eq!(fiber.resume(1), FiberResult::Yield(main));

    let other = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let FiberResult::Yield(on) = fiber.resume(2) else {
                    panic!("fiber returned early");
                };
                assert_eq!(on, std::thread::current().id());
                on
            })
            .join()
            .unwrap()
    });
    assert_ne!(other, main);
    assert_eq!(fiber.resume(3), FiberResult::Return(6));
    assert_eq!(creator.live(), 0);
}

#[test]
fn suspended_fiber_dropped_on_another_thread() {
    let creator = CountingCreator::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let in_fiber = drops.clone();
    // SAFETY: nothing thread-bound lives on the fiber.
    let mut fiber = unsafe {
        Fiber::new(
            creator.new_stack(STACK_SIZE, true).unwrap(),
            move |(), s: &Suspend<(), (), ()>| suspend_deep(2, &in_fiber, s),
        )
    }
    .unwrap();
    let _ = fiber.resume(());
    std::thread::spawn(move || drop(fiber)).join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(creator.live(), 0);
}

#[test]
fn trap_handler_covers_stack_and_guard_until_done() {
    let stack = DefaultStackCreator.new_stack(STACK_SIZE, true).unwrap();
    let guard = stack.guard_range();
    let range = stack.range();
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(stack, |(), s: &Suspend<(), usize, ()>| {
            s.suspend(stack_address());
        })
    }
    .unwrap();
    let handler = fiber.trap_handler().unwrap();
    let sp = fiber.resume(()).into_yield().unwrap();
    assert!(handler.stack_ptr_in_bounds(sp));
    assert!(handler.stack_ptr_in_bounds(guard.start as usize));
    assert!(handler.stack_ptr_in_bounds(range.end - 1));
    assert!(!handler.stack_ptr_in_bounds(range.end));
    assert!(!handler.stack_ptr_in_bounds(stack_address()));
    let _ = fiber.resume(());
    assert!(fiber.trap_handler().is_none());
}

#[test]
fn on_parent_stack_runs_off_the_fiber_stack() {
    // SAFETY: the fiber stays on this thread.
    let mut fiber = unsafe {
        Fiber::new(mmap_stack(), |(), s: &Suspend<(), (), (bool, bool)>| {
            let range = s.stack_range();
            let on_fiber = range.contains(&stack_address());
            let on_parent = s.on_parent_stack(|| range.contains(&stack_address()));
            (on_fiber, on_parent)
        })
    }
    .unwrap();
    assert_eq!(fiber.resume(()), FiberResult::Return((true, false)));
}

/// A stack that only claims memory; never run on, as `Fiber::new` rejects it.
struct BogusStack {
    top: usize,
    range: std::ops::Range<usize>,
}

// SAFETY: never used as a stack: the tests below check that it is rejected.
unsafe impl StackMemory for BogusStack {
    fn top(&self) -> *mut u8 {
        self.top as *mut u8
    }
    fn range(&self) -> std::ops::Range<usize> {
        self.range.clone()
    }
    fn guard_range(&self) -> std::ops::Range<*mut u8> {
        std::ptr::null_mut()..std::ptr::null_mut()
    }
}

#[test]
fn unusable_stacks_are_rejected() {
    for (top, range) in [
        (0x10_0000, 0x10_0000..0x10_0800), // top outside the range
        (0x10_0800, 0x10_0000..0x10_0800), // 2 KiB: too small
    ] {
        let stack: Box<dyn StackMemory> = Box::new(BogusStack { top, range });
        // SAFETY: the fiber is never created.
        let result = unsafe { Fiber::new(stack, |(), _: &Suspend<(), (), ()>| ()) };
        assert!(result.is_err(), "{top:#x}");
    }
}

/// A creator's stack whose top lies below the end of its range.
struct LowTop(Box<dyn StackMemory>);

const LOW_TOP_GAP: usize = 8 << 10;

// SAFETY: forwards to a valid stack; the top moves down but stays inside the range.
unsafe impl StackMemory for LowTop {
    fn top(&self) -> *mut u8 {
        self.0.top().wrapping_sub(LOW_TOP_GAP)
    }
    fn range(&self) -> std::ops::Range<usize> {
        self.0.range()
    }
    fn guard_range(&self) -> std::ops::Range<*mut u8> {
        self.0.guard_range()
    }
}

#[test]
fn fiber_starts_at_the_stacks_top_pointer() {
    let creator = CountingCreator::new();
    let stack = LowTop(creator.new_stack(STACK_SIZE, true).unwrap());
    let top = stack.top() as usize;
    let bottom = stack.range().start;
    let stack: Box<dyn StackMemory> = Box::new(stack);
    // SAFETY: the fiber stays on this thread.
    let mut fiber =
        unsafe { Fiber::new(stack, |(), _: &Suspend<(), (), usize>| stack_address()) }.unwrap();
    let sp = fiber.resume(()).into_return().unwrap();
    assert!((bottom..top).contains(&sp), "{sp:#x} not below {top:#x}");
    assert_eq!(creator.live(), 0);
}
